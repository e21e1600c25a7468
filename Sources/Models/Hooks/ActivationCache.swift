import Linalg

/// Activations captured by ``HookSet/capture(_:into:)``, per hook point and sequence.
///
/// When one sequence is seen in several passes (cached generation), its rows are appended
/// along the position axis, so the cache holds the whole sequence either way. Attention
/// patterns keep one chunk per pass, because their key length differs per pass.
public final class ActivationCache {
    private var chunks: [HookPoint: [Int: [Tensor]]] = [:]

    public init() {}

    /// Points that hold something, in forward order.
    public var points: [HookPoint] { chunks.keys.sorted() }

    func append(_ act: Tensor, point: HookPoint, sequence: Int, positions: Range<Int>) {
        chunks[point, default: [:]][sequence, default: []].append(act)
    }

    /// The activation at `point` for `sequence`, all passes joined along the position axis,
    /// or nil when none was captured. For `pattern`, the last pass's `[heads, q, k]`.
    public func tensor(_ point: HookPoint, sequence: Int = 0) -> Tensor? {
        guard let parts = chunks[point]?[sequence], let first = parts.first else { return nil }
        if parts.count == 1 { return first }
        if case .pattern = point { return parts.last }
        let tail = Array(first.shape.dropFirst())
        let rows = parts.reduce(0) { $0 + $1.shape[0] }
        return Tensor(shape: [rows] + tail, scalars: parts.flatMap(\.scalars))
    }

    /// All chunks captured at `point` for `sequence`, one per forward pass.
    public func chunks(_ point: HookPoint, sequence: Int = 0) -> [Tensor] {
        chunks[point]?[sequence] ?? []
    }

    /// Forgets everything.
    public func removeAll() { chunks.removeAll() }
}
