import Linalg
import Models
import Store
import Tokenizers

/// Live forward passes that turn prompts into one activation vector per prompt and hook
/// point (the input of every derivation), and the typical activation norm at a hook.
public struct ActivationPooling {
    public let model: Transformer
    public let tokenizer: Tokenizer
    /// Prompts per forward pass.
    public var batchSize = 16

    public init(model: Transformer, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Token ids of `prompt` (no special tokens added; special-token text parsed).
    public func encode(_ prompt: String) throws -> [Int] { try tokenizer.encode(prompt) }

    /// One pooled vector per prompt at each of `points`: `result[point][prompt]`.
    /// - Throws: ``SteeringError/promptTooShort`` when the rule needs more tokens.
    public func pooled(_ prompts: [String], at points: [HookPoint], rule: PositionRule,
                       progress: ((Int) -> Void)? = nil) throws -> [HookPoint: [[Float]]] {
        let ids = try prompts.map(encode)
        for (p, t) in zip(prompts, ids) where t.isEmpty || (rule == .meanExcludingFirst && t.count < 2) {
            throw SteeringError.promptTooShort(prompt: p, tokens: t.count, rule: rule.rawValue)
        }
        var out: [HookPoint: [[Float]]] = [:]
        for point in points { out[point] = [] }
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            let box = PooledBox(count: batch.count, points: points)
            var hooks = HookSet()
            for point in points {
                hooks.observe(point) { act, ctx in
                    box.set(point, ctx.sequence, Self.pool(act, rule: rule))
                }
            }
            _ = try model.forward(batch, hooks: hooks, logits: .none)
            for point in points { out[point]! += box.values[point]! }
            start += batch.count
            progress?(start)
        }
        return out
    }

    /// Mean L2 norm of the rows at `point` over `prompts`, positions 1... only (position 0,
    /// the attention sink, is left out). The scale that "multiple of the activation norm"
    /// strengths refer to; measured on neutral text.
    public func typicalNorm(at points: [HookPoint], prompts: [String]) throws -> [HookPoint: Double] {
        try neutralStatistics(at: points, directions: [], prompts: prompts).norms
    }

    /// Each direction's mean projection (row · unit direction) at its hook over `prompts`,
    /// positions 1... only, like ``typicalNorm(at:prompts:)``. Where "nothing along the
    /// direction" sits for ordinary text: a contrast direction's zero need not be neutral.
    public func meanProjection(onto directions: [SteeringDirection], prompts: [String]) throws -> [Double] {
        try neutralStatistics(at: [], directions: directions, prompts: prompts).projections
    }

    /// ``typicalNorm(at:prompts:)`` at `points` and ``meanProjection(onto:prompts:)`` of
    /// `directions`, from one batched pass over `prompts`.
    public func neutralStatistics(at points: [HookPoint], directions: [SteeringDirection],
                                  prompts: [String]) throws -> (norms: [HookPoint: Double], projections: [Double]) {
        let ids = try prompts.map(encode).filter { $0.count >= 2 }
        guard !ids.isEmpty else { throw SteeringError.emptyContrastSet("no neutral prompt has 2+ tokens to measure activation norms and projections on") }
        let directionPoints = try directions.map { try $0.hookPoint(in: model.config) }
        let units = directions.map { $0.unit.map(Double.init) }
        let norms = NormBox(), projections = ProjectionBox(count: directions.count)
        let normed = Set(points)
        var hooks = HookSet()
        for point in normed.union(directionPoints) {
            let projected = directionPoints.indices.filter { directionPoints[$0] == point }
            hooks.observe(point) { act, ctx in
                let w = act.count / act.shape[0], x = act.scalars
                for (i, p) in ctx.positions.enumerated() where p > 0 {
                    let row = x[(i * w)..<((i + 1) * w)]
                    if normed.contains(point) { norms.add(point, SteeringMath.norm(Array(row))) }
                    for d in projected {
                        var dot = 0.0
                        for (j, v) in row.enumerated() { dot += Double(v) * units[d][j] }
                        projections.add(d, dot)
                    }
                }
            }
        }
        try forwardInBatches(ids, hooks: hooks)
        return (norms.means(), projections.means())
    }

    /// Runs `ids` through the model in batches of ``batchSize`` for `hooks`' sake (no logits).
    private func forwardInBatches(_ ids: [[Int]], hooks: HookSet) throws {
        var start = 0
        while start < ids.count {
            _ = try model.forward(Array(ids[start..<min(start + batchSize, ids.count)]), hooks: hooks, logits: .none)
            start += batchSize
        }
    }

    /// One vector from a `[pos, ...]` activation whose rows are positions 0..<n (the prompt
    /// lengths were checked against the rule before the pass).
    static func pool(_ act: Tensor, rule: PositionRule) -> [Float] {
        let n = act.shape[0]
        return rule.pool(act.scalars, positions: Array(0..<n), width: act.count / n)!
    }
}

/// Per-batch results written by hooks (single-threaded per pass, but hooks are closures).
private final class PooledBox: @unchecked Sendable {
    var values: [HookPoint: [[Float]]]
    init(count: Int, points: [HookPoint]) {
        values = Dictionary(uniqueKeysWithValues: points.map { ($0, [[Float]](repeating: [], count: count)) })
    }
    func set(_ point: HookPoint, _ sequence: Int, _ v: [Float]) { values[point]![sequence] = v }
}

private final class NormBox: @unchecked Sendable {
    var sums: [HookPoint: (Double, Int)] = [:]
    func add(_ point: HookPoint, _ n: Double) {
        let s = sums[point] ?? (0, 0)
        sums[point] = (s.0 + n, s.1 + 1)
    }
    func means() -> [HookPoint: Double] { sums.mapValues { $0.0 / Double(max($0.1, 1)) } }
}

private final class ProjectionBox: @unchecked Sendable {
    var sums: [Double], counts: [Int]
    init(count: Int) { sums = Array(repeating: 0, count: count); counts = Array(repeating: 0, count: count) }
    func add(_ d: Int, _ x: Double) { sums[d] += x; counts[d] += 1 }
    func means() -> [Double] { zip(sums, counts).map { $0 / Double(max($1, 1)) } }
}
