import Foundation
import Linalg
import LoupeTestSupport
import Models
import Store
import Testing

/// Live activations of `prompts` in one batched pass, per point and prompt.
func liveActivations(_ model: Transformer, _ prompts: [StoredPrompt], _ points: [HookPoint]) throws -> ActivationCache {
    let cache = ActivationCache()
    var hooks = HookSet()
    hooks.capture(points, into: cache)
    _ = try model.forward(prompts.map(\.tokens), hooks: hooks, logits: .none)
    return cache
}

/// Rows `rows` of `t` along its first axis (or, for a pattern `[heads, q, k]`, as `[rows, heads, k]`).
func selectRows(_ t: Tensor, _ rows: [Int], pattern: Bool) -> [Float] {
    if pattern {
        let (h, q, k) = (t.shape[0], t.shape[1], t.shape[2])
        var out: [Float] = []
        for r in rows {
            for hh in 0..<h {
                let start = (hh * q + r) * k
                out += t.scalars[start..<(start + k)]
            }
        }
        return out
    }
    let w = t.count / t.shape[0]
    return rows.flatMap { t.scalars[($0 * w)..<(($0 + 1) * w)] }
}

@Suite struct CaptureRoundTripTests {
    static let points: [HookPoint] = [.embed, .residPost(0), .q(1), .pattern(0), .mlpPost(1), .z(1), .finalNorm]

    @Test(arguments: [CapturePositions.all, .last, .index(1), .index(-2)])
    func f32RowsEqualTheLivePassBitForBit(_ positions: CapturePositions) throws {
        let t = try TinyCapture(hooks: Self.points, positions: positions, dtype: .f32)
        let capturer = Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 100)
        let progress = try capturer.run(prompts: t.prompts, positions: t.kept)
        #expect(progress.capturedPrompts == t.prompts.count && progress.done == t.prompts.count)
        let live = try liveActivations(t.model, t.prompts, Self.points)
        for point in Self.points {
            for (i, p) in t.prompts.enumerated() {
                let stored = try #require(try t.store.activation(capture: t.capture, hook: point.name, prompt: p.id))
                #expect(stored.positions == t.kept[i])
                let expected = selectRows(live.tensor(point, sequence: i)!, t.kept[i], pattern: point.isPattern)
                #expect(stored.tensor.shape[0] == t.kept[i].count)
                #expect(stored.tensor.scalars.map(\.bitPattern) == expected.map(\.bitPattern), "\(point) prompt \(i)")
            }
        }
    }

    @Test func f16RowsAreTheLivePassRoundedToHalf() throws {
        let t = try TinyCapture(hooks: [.residPost(1), .k(0)], positions: .all, dtype: .f16)
        try Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 100).run(prompts: t.prompts, positions: t.kept)
        let live = try liveActivations(t.model, t.prompts, [.residPost(1), .k(0)])
        for point in [HookPoint.residPost(1), .k(0)] {
            for (i, p) in t.prompts.enumerated() {
                let stored = try #require(try t.store.activation(capture: t.capture, hook: point.name, prompt: p.id)).tensor
                let expected = live.tensor(point, sequence: i)!
                #expect(stored.shape == expected.shape)
                #expect(stored.scalars == expected.scalars.map { Float(Float16($0)) })
                // And the rounding is real: some values changed.
                #expect(stored.scalars != expected.scalars)
            }
        }
    }

    struct Stop: Error {}

    @Test func rerunningResumesAndSkipsStoredPrompts() throws {
        let hooks: [HookPoint] = [.residPost(0), .mlpOut(1)]
        let t = try TinyCapture(hooks: hooks, positions: .all, dtype: .f32)
        let capturer = Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 3)
        // Interrupted after two batches: those stay, whole.
        #expect(throws: Stop.self) {
            try capturer.run(prompts: t.prompts, positions: t.kept) { if $0.capturedPrompts == 6 { throw Stop() } }
        }
        #expect(try t.store.completedPrompts(capture: t.capture.id).count == 6)
        var reports: [Int] = []
        let second = try capturer.run(prompts: t.prompts, positions: t.kept) { reports.append($0.done) }
        #expect(second.capturedPrompts == t.prompts.count - 6)
        #expect(reports == [9, 12])
        #expect(try capturer.run(prompts: t.prompts, positions: t.kept).capturedPrompts == 0)

        // Bit for bit the content of one uninterrupted run.
        let whole = try TinyCapture(hooks: hooks, positions: .all, dtype: .f32)
        try Capturer(model: whole.model, store: whole.store, capture: whole.capture, batchSize: 3)
            .run(prompts: whole.prompts, positions: whole.kept)
        for (a, b) in zip(t.prompts, whole.prompts) {
            for hook in hooks.map(\.name) {
                let x = try t.store.activation(capture: t.capture, hook: hook, prompt: a.id)?.tensor
                let y = try whole.store.activation(capture: whole.capture, hook: hook, prompt: b.id)?.tensor
                #expect(x != nil && x?.scalars.map(\.bitPattern) == y?.scalars.map(\.bitPattern))
            }
        }
        #expect(try t.store.captures().first?.promptsDone == t.prompts.count)
    }

    @Test func batchTokenBudgetSplitsBatches() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .last)
        var batches = 0
        let capturer = Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 100, batchTokens: 20)
        try capturer.run(prompts: t.prompts, positions: t.kept) { _ in batches += 1 }
        let tokens = t.prompts.reduce(0) { $0 + $1.tokens.count }
        #expect(batches >= tokens / 20)
        #expect(try t.store.captures()[0].rowsPerHook == t.prompts.count)
    }
}

extension HookPoint {
    var isPattern: Bool { if case .pattern = self { true } else { false } }
}
