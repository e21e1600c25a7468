import Linalg
import Store

/// Where training rows come from: batches of `[rows, d_in]` in a seeded shuffled order,
/// pass after pass (`epoch` reseeds the order).
public protocol SAETrainingSource {
    /// Row width.
    var width: Int { get }
    /// The next batch of up to `rows` rows of the current pass, or nil when it is over.
    mutating func nextBatch(rows: Int) throws -> Tensor?
    /// Starts pass `epoch` (0 first) in a new seeded order.
    mutating func startPass(_ epoch: Int) throws
    /// Rows of one pass left out, by reason (`position 0`, `outlier`); empty for sources that filter nothing.
    var skipped: [String: Int] { get }
}

/// An in-memory `[n, d]` matrix (tests, `--input X.npy`), its rows shuffled per pass.
public struct MatrixSource: SAETrainingSource {
    public let matrix: Tensor
    let seed: UInt64
    var order: [Int] = []
    var cursor = 0
    public var width: Int { matrix.shape[1] }
    public var skipped: [String: Int] { [:] }

    /// - Throws: ``SAEError`` unless `matrix` is `[n >= 1, d >= 1]` with finite values.
    public init(_ matrix: Tensor, seed: UInt64) throws {
        guard matrix.rank == 2, matrix.shape[0] > 0, matrix.shape[1] > 0 else {
            throw SAEError.noRows("training matrix of shape \(matrix.shape) is not [rows >= 1, width >= 1]")
        }
        if let bad = matrix.scalars.firstIndex(where: { !$0.isFinite }) {
            throw SAEError.nonFinite(row: bad / matrix.shape[1], what: "training matrix")
        }
        self.matrix = matrix
        self.seed = seed
    }

    public mutating func startPass(_ epoch: Int) throws {
        var rng = SeededRandom(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        order = Array(0..<matrix.shape[0])
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        cursor = 0
    }

    public mutating func nextBatch(rows: Int) throws -> Tensor? {
        let take = min(rows, order.count - cursor)
        guard take > 0 else { return nil }
        let d = width
        var out = [Float](repeating: 0, count: take * d)
        matrix.withUnsafeBufferPointer { src in
            for r in 0..<take {
                let from = order[cursor + r] * d
                for c in 0..<d { out[r * d + c] = src[from + c] }
            }
        }
        cursor += take
        return Tensor(shape: [take, d], scalars: out)
    }
}

/// One hook of a store capture, streamed by ``ActivationReader`` in seeded shuffled order
/// (memory bounded by the reader's window and the batch). Rows at position 0 (the attention
/// sink) are left out, and so are rows whose norm exceeds `outlierFactor` times the median
/// norm of the first reader batch of the first pass (the project's outlier rule, judged on a
/// sample so the capture is read once per pass); both are counted, over the first pass.
public struct StoreSource: SAETrainingSource {
    let store: ActivationStore
    let capture: CaptureRecord
    public let hook: String
    /// The model the capture was made with.
    public let modelName: String
    let seed: UInt64
    let outlierFactor: Float
    var reader: ActivationReader?
    var pending: [Float] = []
    var threshold: Float?
    var epoch = 0
    public private(set) var skipped: [String: Int] = ["position 0": 0, "outlier": 0]
    public let width: Int
    /// Rows the capture holds for the hook (before filtering).
    public let rowCount: Int

    /// - Throws: ``StoreError`` when the store, capture or hook is not there;
    ///   ``SAEError/noRows(_:)`` when the hook has no rows.
    public init(store path: String, capture id: Int64?, hook: String, seed: UInt64, outlierFactor: Float = 10) throws {
        store = try ActivationStore(path: path)
        let summary = try store.captureSummary(choosing: id)
        capture = try store.capture(id: summary.id)
        modelName = summary.model
        self.hook = hook
        self.seed = seed
        self.outlierFactor = outlierFactor
        let probe = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 1)
        guard probe.rowCount > 0, probe.width > 0 else { throw SAEError.noRows("capture \(summary.id) in \(path) has no rows of \(hook)") }
        width = probe.width
        rowCount = probe.rowCount
    }

    public mutating func startPass(_ epoch: Int) throws {
        self.epoch = epoch
        reader = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 4096,
                                      order: .shuffled(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9))
        pending.removeAll(keepingCapacity: true)
    }

    public mutating func nextBatch(rows: Int) throws -> Tensor? {
        let d = width
        while pending.count < rows * d, let batch = try reader?.nextBatch() {
            let norms = (0..<batch.rows.shape[0]).map { r in
                batch.rows.withUnsafeBufferPointer { BLAS.norm(n: d, x: $0.baseAddress! + r * d) }
            }
            if threshold == nil {
                let kept = zip(norms, batch.positions).filter { $0.1 != 0 }.map(\.0).sorted()
                threshold = kept.isEmpty ? .infinity : outlierFactor * kept[kept.count / 2]
            }
            for r in 0..<batch.rows.shape[0] {
                if batch.positions[r] == 0 { if epoch == 0 { skipped["position 0", default: 0] += 1 }; continue }
                if norms[r] > threshold! || !norms[r].isFinite { if epoch == 0 { skipped["outlier", default: 0] += 1 }; continue }
                pending += batch.rows.scalars[(r * d)..<((r + 1) * d)]
            }
        }
        let take = min(rows, pending.count / d)
        guard take > 0 else { return nil }
        let out = Tensor(shape: [take, d], scalars: Array(pending[0..<(take * d)]))
        pending.removeFirst(take * d)
        return out
    }
}
