import Linalg
import LoupeTestSupport
import Models
import Testing

/// `forward(_:hooks:through:)`: a pass that stops after a block.
@Suite struct ForwardThroughTests {
    @Test(arguments: [TinyModels.llamaConfig(layers: 4), TinyModels.gpt2Config()])
    func activationsUpToTheStopEqualAFullPassBitForBit(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        let seqs = [[1, 2, 3, 4, 5, 6, 7], [9, 8], [3, 3, 3, 3, 10]]
        let stop = 0
        let below = config.hookPoints.filter { ($0.layer ?? -1) <= stop && $0 != .finalNorm }
        let full = ActivationCache(), early = ActivationCache()
        var hooks = HookSet()
        hooks.capture(below, into: full)
        _ = try model.forward(seqs, hooks: hooks, logits: .all)
        hooks = HookSet()
        hooks.capture(below, into: early)
        try model.forward(seqs, hooks: hooks, through: stop)
        for p in below {
            for s in seqs.indices {
                let a = try #require(early.tensor(p, sequence: s), "\(p)"), b = try #require(full.tensor(p, sequence: s))
                #expect(a.shape == b.shape && a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(p) sequence \(s)")
            }
        }
    }

    @Test func hooksAboveTheStopAreNotCalled() throws {
        let config = TinyModels.llamaConfig(layers: 4)
        let model = try TinyModels.model(config)
        var called: Set<HookPoint> = []
        var hooks = HookSet()
        for p in config.hookPoints { hooks.observe(p) { _, ctx in called.insert(ctx.point) } }
        try model.forward([[1, 2, 3], [4]], hooks: hooks, through: 1)
        #expect(called == Set(config.hookPoints.filter { ($0.layer ?? -1) <= 1 && $0 != .finalNorm }))
        called = []
        try model.forward([[1, 2, 3]], hooks: hooks, through: -1)
        #expect(called == [.embed], "embeddings only")
    }
}
