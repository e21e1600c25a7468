import Formats
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Invariants of the batched, cached forward pass on small random models.
@Suite struct ForwardPassTests {
    static let configs = [TinyModels.llamaConfig(), TinyModels.gpt2Config()]

    @Test(arguments: configs)
    func batchOfMixedLengthsEqualsSeparateRuns(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        let seqs = [[1, 2, 3, 4, 5, 6, 7], [9, 8], [3, 3, 3, 3, 10]]
        let batched = try model.forward(seqs, logits: .all).logits
        for (i, s) in seqs.enumerated() {
            let alone = try model.forward([s], logits: .all).logits[0]
            #expect(batched[i].shape == [s.count, config.vocabSize])
            #expect(TestFiles.maxAbsDiff(batched[i].scalars, alone.scalars) < 1e-4)
        }
    }

    @Test(arguments: configs)
    func cachedIncrementalPassEqualsFullPass(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        let tokens = [5, 1, 4, 1, 5, 9, 2, 6, 5, 3]
        let full = try model.forward([tokens], logits: .all).logits[0]
        let cache = KVCache(config: config, reserve: 2)  // forces the cache to grow
        var rows: [Float] = try model.forward([Array(tokens[0..<4])], caches: [cache], logits: .all).logits[0].scalars
        for t in tokens[4...] {
            rows += try model.forward([[t]], caches: [cache], logits: .all).logits[0].scalars
        }
        #expect(cache.count == tokens.count)
        #expect(TestFiles.maxAbsDiff(rows, full.scalars) < 1e-4)
    }

    @Test func lastRowLogitsEqualLastOfAll() throws {
        let model = try TinyModels.model(TinyModels.llamaConfig())
        let all = try model.forward([[1, 2, 3]], logits: .all).logits[0]
        let last = try model.forward([[1, 2, 3]]).logits[0]
        #expect(last.shape == [1, 50])
        #expect(TestFiles.maxAbsDiff(last.scalars, all.row(2)) < 1e-5)
        #expect(try model.forward([[1]], logits: .none).logits.isEmpty)
    }

    @Test func causalMaskHidesTheFuture() throws {
        // Changing a later token must not change earlier positions' logits.
        let model = try TinyModels.model(TinyModels.llamaConfig())
        let a = try model.forward([[1, 2, 3, 4]], logits: .all).logits[0]
        let b = try model.forward([[1, 2, 3, 40]], logits: .all).logits[0]
        #expect(TestFiles.maxAbsDiff(Array(a.scalars[0..<150]), Array(b.scalars[0..<150])) == 0)
        #expect(TestFiles.maxAbsDiff(Array(a.scalars[150...]), Array(b.scalars[150...])) > 1e-3)
    }

    @Test func badInputsGiveTheirOwnErrors() throws {
        let model = try TinyModels.model(TinyModels.llamaConfig(context: 8))
        #expect(throws: ModelError.emptySequence(sequence: 1)) { try model.forward([[1], []]) }
        #expect(throws: ModelError.tokenOutOfRange(sequence: 0, position: 1, token: 50, vocabSize: 50)) {
            try model.forward([[1, 50]])
        }
        #expect(throws: ModelError.tokenOutOfRange(sequence: 0, position: 0, token: -1, vocabSize: 50)) {
            try model.forward([[-1]])
        }
        #expect(throws: ModelError.promptTooLong(sequence: 0, tokens: 9, contextLength: 8)) {
            try model.forward([Array(repeating: 1, count: 9)])
        }
        let err = ModelError.promptTooLong(sequence: 0, tokens: 9, contextLength: 8)
        #expect(err.description == "sequence 0 has 9 tokens, longer than the model's context of 8 tokens")
    }

    @Test func weightShapesAreChecked() throws {
        let c = TinyModels.llamaConfig()
        var w = try TinyModels.model(c).weights
        w.layers[1].wk = WeightMatrix(Tensor(zeros: [8, 32]))
        #expect(throws: ModelError.tensorShape(file: "x", tensor: "layer 1 k projection", expected: [16, 32], found: [8, 32])) {
            try Transformer(config: c, weights: w, file: "x")
        }
    }
}

extension TransformerConfig: CustomTestStringConvertible {
    public var testDescription: String { architecture }
}

@Suite struct ResumeTests {
    @Test(arguments: [TinyModels.llamaConfig(layers: 4), TinyModels.gpt2Config()])
    func resumingAtALayerFromACachedPrefixEqualsAFullPass(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        let tokens = [4, 8, 15, 16, 23, 42, 7]
        // A full pass with a steering edit at (layer L, position t) ...
        let (layer, t) = (1, 3)
        let edit = (0..<config.dModel).map { Float($0 % 3) - 1 }
        var hooks = HookSet()
        hooks.add(edit, at: .residPre(layer), positions: .positions([t]))
        let want = try model.forward([tokens], hooks: hooks, logits: .all).logits[0]
        // ... equals: cache the plain run, truncate to t positions, resume at L with rows t...
        let cache = KVCache(config: config)
        let states = ActivationCache()
        var capture = HookSet()
        capture.capture([.residPre(layer)], into: states)
        _ = try model.forward([tokens], caches: [cache], hooks: capture)
        let prefix = cache.copy(prefix: t, fromLayer: layer)
        var rows = states.tensor(.residPre(layer))!.rows(t..<tokens.count)
        for i in 0..<config.dModel { rows.scalars[i] += edit[i] }
        let got = try model.forward(resuming: layer, residuals: [rows], caches: [prefix], logits: .all).logits[0]
        #expect(got.shape == [tokens.count - t, config.vocabSize])
        #expect(TestFiles.maxAbsDiff(got.scalars, want.rows(t..<tokens.count).scalars) < 1e-4)
        #expect(prefix.count == tokens.count)
    }
}

@Suite struct GivenMLPOutputTests {
    /// Resumed runs of one prompt from positions 2, 4 and 6 (the last: a one-row run), the
    /// first row's `mlp_out` at layers 1 and 3 (the top) set from `source`, either given or
    /// by a hook that overwrites it. `inside` adds a hook inside layer 1's MLP.
    static func resumedRuns(_ model: Transformer, given: Bool, inside: Bool, logits: Transformer.LogitRows) throws -> [Tensor] {
        let config = model.config, tokens = [4, 8, 15, 16, 23, 42, 7]
        let cache = KVCache(config: config)
        let states = ActivationCache()
        var capture = HookSet()
        capture.capture([.residPre(1)], into: states)
        _ = try model.forward([tokens], caches: [cache], hooks: capture)
        var rng = SeededRandom(seed: 11)
        let layers = [1, 3]
        let sources = Dictionary(uniqueKeysWithValues: layers.map { l in
            (l, Tensor(shape: [tokens.count, config.dModel], scalars: (0..<(tokens.count * config.dModel)).map { _ in rng.nextGaussian() }))
        })
        var hooks = HookSet()
        if inside { hooks.observe(.mlpPost(1)) { _, _ in } }
        if !given {
            for l in layers {
                hooks.modify(.mlpOut(l)) { act, ctx in
                    let t = ctx.positions.lowerBound, w = act.shape[1]
                    act.scalars.replaceSubrange(0..<w, with: sources[l]!.scalars[(t * w)..<((t + 1) * w)])
                }
            }
        }
        let starts = [2, 4, 6]
        return try model.forward(resuming: 1, residuals: starts.map { states.tensor(.residPre(1))!.rows($0..<tokens.count) },
                                 caches: starts.map { cache.copy(prefix: $0, fromLayer: 1) }, hooks: hooks, logits: logits,
                                 given: given ? GivenMLPOutputs(sources) : GivenMLPOutputs()).logits
    }

    @Test(arguments: [TinyModels.llamaConfig(layers: 4), TinyModels.gpt2Config(layers: 4)])
    func givenOutputsEqualAHookThatSetsThem(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        for logits in [Transformer.LogitRows.all, .lastPacked] {
            for inside in [false, true] {
                let want = try Self.resumedRuns(model, given: false, inside: inside, logits: logits)
                let got = try Self.resumedRuns(model, given: true, inside: inside, logits: logits)
                #expect(got.map(\.shape) == want.map(\.shape))
                for (g, w) in zip(got, want) { #expect(TestFiles.maxAbsDiff(g.scalars, w.scalars) < 1e-4) }
            }
        }
        // The given rows matter: without them the logits differ.
        let plain = try model.forward(resuming: 1, residuals: [Tensor(shape: [1, config.dModel], scalars: [Float](repeating: 0.5, count: config.dModel))],
                                      caches: [KVCache(config: config)], logits: .all).logits[0]
        let set = try model.forward(resuming: 1, residuals: [Tensor(shape: [1, config.dModel], scalars: [Float](repeating: 0.5, count: config.dModel))],
                                    caches: [KVCache(config: config)], logits: .all,
                                    given: GivenMLPOutputs([2: Tensor(shape: [1, config.dModel], scalars: [Float](repeating: 3, count: config.dModel))])).logits[0]
        #expect(TestFiles.maxAbsDiff(plain.scalars, set.scalars) > 1e-3)
    }

    @Test func aSourceWithoutTheRowsIsAnError() throws {
        let config = TinyModels.llamaConfig(layers: 4)
        let model = try TinyModels.model(config)
        let cache = KVCache(config: config)
        _ = try model.forward([[1, 2, 3, 4]], caches: [cache])
        let short = Tensor(shape: [2, config.dModel], scalars: [Float](repeating: 0, count: 2 * config.dModel))
        #expect(throws: ModelError.hookShape(hook: HookPoint.mlpOut(2).name, expected: [4, config.dModel], found: [2, config.dModel])) {
            try model.forward(resuming: 1, residuals: [Tensor(shape: [1, config.dModel], scalars: [Float](repeating: 0, count: config.dModel))],
                              caches: [cache.copy(prefix: 3, fromLayer: 1)], given: GivenMLPOutputs([2: short]))
        }
    }
}

@Suite struct LongAttentionTests {
    /// A 700-token pass sends every head through sgemm in causal blocks (700 x 700 x 8
    /// multiply-adds is above `attentionBLASThreshold`); the same tokens fed 100 at a time
    /// through a cache stay under it (the dot-product loops), so the two paths check each other.
    @Test(arguments: [TinyModels.llamaConfig(context: 800), TinyModels.gpt2Config(context: 800)])
    func blockedSgemmAttentionEqualsTheLoops(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        var rng = SeededRandom(seed: 5)
        let tokens = (0..<700).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
        let whole = try model.forward([tokens], logits: .all).logits[0]
        let cache = KVCache(config: config)
        var pieces: [Float] = []
        for start in stride(from: 0, to: tokens.count, by: 100) {
            pieces += try model.forward([Array(tokens[start..<(start + 100)])], caches: [cache], logits: .all).logits[0].scalars
        }
        #expect(TestFiles.maxAbsDiff(whole.scalars, pieces) < 1e-4)
        // A pattern hook that leaves the pattern as it is takes the unblocked path: same logits.
        var hooks = HookSet()
        hooks.modify(.pattern(1)) { _, _ in }
        let hooked = try model.forward([tokens], hooks: hooks, logits: .all).logits[0]
        #expect(TestFiles.maxAbsDiff(whole.scalars, hooked.scalars) < 1e-4)
    }
}
