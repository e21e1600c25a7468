import Linalg
import LoupeTestSupport
import Models
import Testing

@Suite struct HookTests {
    let config = TinyModels.llamaConfig()

    @Test func namesRoundTripAndUnknownNamesSuggest() throws {
        for p in config.hookPoints { #expect(HookPoint(name: p.name) == p) }
        #expect(config.hookPoints.count == 2 + 17 * 2)
        #expect(HookPoint(name: "blocks.01.hook_resid_pre") == nil)
        #expect(throws: ModelError.unknownHook(name: "blocks.1.hook_resid_psot",
                                               suggestions: ["blocks.1.hook_resid_post", "blocks.0.hook_resid_post", "blocks.1.hook_resid_pre"])) {
            try config.hookPoint(named: "blocks.1.hook_resid_psot")
        }
        // A layer the model does not have is unknown too.
        #expect(throws: ModelError.self) { try config.hookPoint(named: "blocks.2.hook_resid_pre") }
        #expect(throws: ModelError.self) { try config.hookPoint(named: "hook_pos_embed") }
        #expect(try config.hookPoint(named: "blocks.1.attn.hook_z") == .z(1))
    }

    @Test func everyHookSeesItsDocumentedShape() throws {
        let model = try TinyModels.model(config)
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture(config.hookPoints, into: cache)
        _ = try model.forward([[1, 2, 3], [4, 5, 6, 7, 8]], hooks: hooks)
        for p in config.hookPoints {
            #expect(cache.tensor(p, sequence: 1)?.shape == config.shape(of: p, positions: 5), "\(p)")
        }
        // resid_post of layer 0 is resid_pre of layer 1; resid_mid = resid_pre + attn_out.
        let post0 = cache.tensor(.residPost(0))!, pre1 = cache.tensor(.residPre(1))!
        #expect(post0 == pre1)
        let mid = cache.tensor(.residMid(1))!.scalars
        let sum = zip(cache.tensor(.residPre(1))!.scalars, cache.tensor(.attnOut(1))!.scalars).map { $0 + $1 }
        #expect(TestFiles.maxAbsDiff(mid, sum) < 1e-5)
        // Every pattern row is a causal probability distribution.
        let pattern = cache.tensor(.pattern(0))!
        for h in 0..<4 { for q in 0..<3 {
            let row = (0..<3).map { pattern.scalars[h * 9 + q * 3 + $0] }
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            #expect(row[(q + 1)...].allSatisfy { $0 == 0 })
        } }
    }

    @Test func replacingWithTheSameValuesChangesNothing() throws {
        let model = try TinyModels.model(config)
        let tokens = [[3, 1, 4, 1, 5]]
        let cache = ActivationCache()
        var capture = HookSet()
        capture.capture([.residMid(1), .z(0), .pattern(1)], into: cache)
        let clean = try model.forward(tokens, hooks: capture).logits[0]
        var patch = HookSet()
        patch.replace(at: .residMid(1), with: cache.tensor(.residMid(1))!)
        patch.replace(at: .z(0), with: cache.tensor(.z(0))!, heads: .heads([2]))
        patch.modify(.pattern(1)) { _, _ in }
        #expect(try model.forward(tokens, hooks: patch).logits[0] == clean)
    }

    @Test func addingAtLayerLChangesNothingBelowIt() throws {
        let model = try TinyModels.model(config)
        let before = ActivationCache(), after = ActivationCache()
        var plain = HookSet()
        plain.capture(config.hookPoints, into: before)
        _ = try model.forward([[1, 2, 3, 4]], hooks: plain)
        var steered = HookSet()
        steered.add([Float](repeating: 0.5, count: 32), at: .residPost(0), positions: .positions([2]))
        steered.capture(config.hookPoints, into: after)
        _ = try model.forward([[1, 2, 3, 4]], hooks: steered)
        for p in config.hookPoints where p <= .residPost(0) && p != .residPost(0) {
            #expect(before.tensor(p) == after.tensor(p), "\(p) changed")
        }
        // At the point itself only position 2 moved, by exactly the vector.
        let d = zip(after.tensor(.residPost(0))!.scalars, before.tensor(.residPost(0))!.scalars).map { $0 - $1 }
        #expect(d[0..<64].allSatisfy { $0 == 0 })
        #expect(d[64..<96].allSatisfy { abs($0 - 0.5) < 1e-6 })
        #expect(d[96...].allSatisfy { $0 == 0 })
        // Later points see it: causal positions >= 2 change in layer 1.
        #expect(before.tensor(.residPost(1)) != after.tensor(.residPost(1)))
    }

    @Test func zeroAblatingOneHeadZeroesOnlyThatHead() throws {
        let model = try TinyModels.model(config)
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.zeroAblate(.z(1), heads: .heads([3]))
        hooks.capture([.z(1)], into: cache)
        _ = try model.forward([[7, 8, 9]], hooks: hooks)
        let z = cache.tensor(.z(1))!  // [3, 4, 8]
        for r in 0..<3 {
            #expect(z.scalars[(r * 32 + 24)..<(r * 32 + 32)].allSatisfy { $0 == 0 })
            #expect(z.scalars[(r * 32)..<(r * 32 + 24)].contains { $0 != 0 })
        }
    }

    @Test func aHookThatChangesTheShapeIsAnError() throws {
        let model = try TinyModels.model(config)
        var hooks = HookSet()
        hooks.modify(.mlpOut(0)) { act, _ in act = Tensor(zeros: [1, 1]) }
        #expect(throws: ModelError.hookShape(hook: "blocks.0.hook_mlp_out", expected: [2, 32], found: [1, 1])) {
            try model.forward([[1, 2]], hooks: hooks)
        }
    }

    @Test func hooksSeeAbsolutePositionsWithACache() throws {
        let model = try TinyModels.model(config)
        var seen: [Range<Int>] = []
        var hooks = HookSet()
        hooks.observe(.residPre(0)) { _, ctx in seen.append(ctx.positions) }
        let cache = KVCache(config: config)
        _ = try model.forward([[1, 2, 3]], caches: [cache], hooks: hooks)
        _ = try model.forward([[4]], caches: [cache], hooks: hooks)
        #expect(seen == [0..<3, 3..<4])
    }
}

/// The pattern hook goes through the same dispatch as every other point.
@Suite struct PatternHookDispatchTests {
    let config = TinyModels.llamaConfig()

    @Test func aPatternHookThatChangesTheShapeIsTheSameError() throws {
        let model = try TinyModels.model(config)
        var hooks = HookSet()
        hooks.modify(.pattern(1)) { act, _ in act = Tensor(zeros: [4, 3]) }
        #expect(throws: ModelError.hookShape(hook: "blocks.1.attn.hook_pattern", expected: [4, 3, 3], found: [4, 3])) {
            try model.forward([[1, 2, 3]], hooks: hooks)
        }
    }

    @Test func observersSeeWhatEarlierModifiersLeftAndChangeNothing() throws {
        let model = try TinyModels.model(config)
        let tokens = [[5, 6, 7, 8]]
        let plain = try model.forward(tokens, logits: .all).logits[0]
        // Observe-only at every point: the logits are bit for bit the plain pass's.
        var watch = HookSet()
        for p in config.hookPoints { watch.observe(p) { _, _ in } }
        #expect(try model.forward(tokens, hooks: watch, logits: .all).logits[0] == plain)
        // A modifier then an observer at the pattern: the observer sees the edit.
        var seen: Tensor?
        var hooks = HookSet()
        hooks.modify(.pattern(0)) { act, _ in
            for h in 0..<4 { for q in 0..<4 { for k in 0...q { act.scalars[(h * 4 + q) * 4 + k] = 1 / Float(q + 1) } } }
        }
        hooks.observe(.pattern(0)) { act, _ in seen = act }
        let edited = try model.forward(tokens, hooks: hooks, logits: .all).logits[0]
        #expect(seen?.scalars[(1 * 4 + 3) * 4 + 2] == 0.25)
        #expect(edited != plain)
    }
}
