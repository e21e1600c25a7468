import Linalg

/// The hooks for one forward pass or one generation, keyed by point.
///
/// Build one, pass it to ``Transformer/forward(_:caches:hooks:logits:)`` or to generation,
/// and drop it: nothing is registered on the model, so nothing needs resetting.
/// With an empty set the forward pass skips every hook check.
public struct HookSet {
    var table: [HookPoint: [Hook]] = [:]

    public init() {}

    /// Whether any hook is registered.
    public var isEmpty: Bool { table.isEmpty }
    /// The points that have hooks, in forward order.
    public var points: [HookPoint] { table.keys.sorted() }

    /// Hooks registered at `point`, in registration order.
    func hooks(at point: HookPoint) -> [Hook]? { table[point] }

    /// Adds a hook; hooks at one point run in the order they were added.
    public mutating func append(_ hook: Hook, at point: HookPoint) {
        table[point, default: []].append(hook)
    }

    /// Calls `body` with a copy of the activation at `point`.
    public mutating func observe(_ point: HookPoint, _ body: @escaping (Tensor, HookContext) -> Void) {
        append(.observe(body), at: point)
    }

    /// Calls `body` with the activation at `point`, which it may change in place.
    public mutating func modify(_ point: HookPoint,
                                _ body: @escaping (inout Tensor, HookContext) throws -> Void) {
        append(.modify(body), at: point)
    }

    /// Adds `scale * vector` to every selected row of the activation at `point`.
    /// `vector` has the activation's row width (for per-head points, one head's `headDim`,
    /// added to each selected head).
    public mutating func add(_ vector: [Float], at point: HookPoint, scale: Float = 1,
                             positions: PositionSelection = .all, heads: HeadSelection = .all) {
        modify(point) { act, ctx in
            try HookSet.forEachSelectedSlice(of: &act, ctx: ctx, width: vector.count,
                                             positions: positions, heads: heads) { slice in
                for i in 0..<vector.count { slice[i] += scale * vector[i] }
            }
        }
    }

    /// Replaces the selected rows at `point` with rows of `source`, indexed by absolute
    /// position: `source` is `[positions, ...]` shaped like the activation over the whole
    /// sequence (e.g. a clean run's cached activation), so row `p` replaces position `p`.
    public mutating func replace(at point: HookPoint, with source: Tensor,
                                 positions: PositionSelection = .all, heads: HeadSelection = .all) {
        modify(point) { act, ctx in
            let rowWidth = act.count / max(act.shape[0], 1)
            guard source.rank >= 1, source.count / max(source.shape[0], 1) == rowWidth,
                  source.shape[0] >= ctx.positions.upperBound else {
                throw ModelError.hookShape(hook: point.name,
                                           expected: [ctx.positions.upperBound] + Array(act.shape.dropFirst()),
                                           found: source.shape)
            }
            let headWidth = point.isPerHead && act.rank == 3 ? act.shape[2] : rowWidth
            let nHeads = rowWidth / headWidth
            source.withUnsafeBufferPointer { src in
                act.withUnsafeMutableBufferPointer { dst in
                    for (i, p) in ctx.positions.enumerated() where positions.contains(p) {
                        for h in 0..<nHeads where !point.isPerHead || heads.contains(h) {
                            let d = i * rowWidth + h * headWidth, s = p * rowWidth + h * headWidth
                            for j in 0..<headWidth { dst[d + j] = src[s + j] }
                        }
                    }
                }
            }
        }
    }

    /// Sets the selected rows (and heads) at `point` to zero (zero-ablation).
    public mutating func zeroAblate(_ point: HookPoint, positions: PositionSelection = .all,
                                    heads: HeadSelection = .all) {
        modify(point) { act, ctx in
            let width = point.isPerHead && act.rank == 3 ? act.shape[2] : act.count / max(act.shape[0], 1)
            try HookSet.forEachSelectedSlice(of: &act, ctx: ctx, width: width,
                                             positions: positions, heads: heads) { slice in
                for i in slice.indices { slice[i] = 0 }
            }
        }
    }

    /// Copies the activation at each of `points` into `cache`.
    public mutating func capture(_ points: [HookPoint], into cache: ActivationCache) {
        for point in points {
            observe(point) { act, ctx in cache.append(act, point: point, sequence: ctx.sequence,
                                                      positions: ctx.positions) }
        }
    }

    /// Calls `body` on each selected `width`-long slice of `act`: per row for whole-row
    /// points, per (row, head) for per-head points whose heads are `width` wide.
    static func forEachSelectedSlice(
        of act: inout Tensor, ctx: HookContext, width: Int, positions: PositionSelection,
        heads: HeadSelection, _ body: (UnsafeMutableBufferPointer<Float>) -> Void
    ) throws {
        let rows = act.shape[0]
        let rowWidth = rows == 0 ? 0 : act.count / rows
        guard width > 0, rowWidth % width == 0 else {
            throw ModelError.hookShape(hook: ctx.point.name, expected: [rows, width],
                                       found: act.shape)
        }
        let slices = rowWidth / width
        if case .pattern = ctx.point {
            throw ModelError.unsupportedHookEdit(
                hook: ctx.point.name, reason: "patterns are [heads, q, k]; edit them with modify(_:_:)")
        }
        act.withUnsafeMutableBufferPointer { buf in
            for (i, p) in ctx.positions.enumerated() where positions.contains(p) {
                for h in 0..<slices where slices == 1 || heads.contains(h) {
                    body(UnsafeMutableBufferPointer(
                        rebasing: buf[(i * rowWidth + h * width)..<(i * rowWidth + (h + 1) * width)]))
                }
            }
        }
    }
}
