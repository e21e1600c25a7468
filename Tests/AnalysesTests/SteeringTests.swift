import Analyses
import Store
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Steering on a tiny random model: identities of the edit, the derivation math, the file
/// formats and bad inputs.
struct SteeringTests {
    let config = TinyModels.llamaConfig(layers: 4)

    func direction(_ v: [Float], hook: String) -> SteeringDirection {
        SteeringDirection(vector: v, hook: hook, provenance: .init(source: "vector", norm: 0))
    }

    func randomVector(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in rng.nextGaussian() }
    }

    @Test func zeroVectorOrZeroScaleGeneratesTheSameTokens() throws {
        let model = try TinyModels.model(config)
        let prompt = [3, 17, 5, 9, 22]
        let sampling = SamplingParameters(temperature: 0.9, topK: 10, topP: 0.95, seed: 4)
        let base = try model.generate(prompt: prompt, maxNewTokens: 20, sampling: sampling)
        let zero = try SteeringIntervention(direction: direction([Float](repeating: 0, count: 32), hook: "blocks.1.hook_resid_post"),
                                            config: config, scale: 3)
        let alpha0 = try SteeringIntervention(direction: direction(randomVector(32, seed: 1), hook: "blocks.1.hook_resid_post"),
                                              config: config, scale: 0)
        for i in [zero, alpha0] {
            let steered = try model.generate(prompt: prompt, maxNewTokens: 20, sampling: sampling,
                                             hooks: SteeringIntervention.hooks([i], promptLength: prompt.count))
            #expect(steered.tokens == base.tokens)
        }
        // The hook path itself is exact: adding a zero vector through an installed hook.
        var hooks = HookSet()
        hooks.add([Float](repeating: 0, count: 32), at: .residPost(1), scale: 5)
        #expect(try model.generate(prompt: prompt, maxNewTokens: 20, sampling: sampling, hooks: hooks).tokens == base.tokens)
        // And a non-zero one does change the logits (the test could fail).
        let strong = try SteeringIntervention(direction: direction(randomVector(32, seed: 1), hook: "blocks.1.hook_resid_post"),
                                              config: config, scale: 4)
        let a = try model.forward([prompt]).logits[0].scalars
        let b = try model.forward([prompt], hooks: SteeringIntervention.hooks([strong], promptLength: 5)).logits[0].scalars
        #expect(TestFiles.maxAbsDiff(a, b) > 1e-2)
    }

    @Test func addingAtLayerLChangesNothingBelowIt() throws {
        let model = try TinyModels.model(config)
        let prompt = [1, 2, 3, 4, 5, 6]
        let steer = try SteeringIntervention(direction: direction(randomVector(32, seed: 2), hook: "blocks.2.hook_resid_pre"),
                                             config: config, scale: 2)
        let below: [HookPoint] = [.embed, .residPre(0), .residPost(0), .residPre(1), .mlpOut(1), .residPost(1), .z(1)]
        let above: [HookPoint] = [.residPost(2), .residPost(3)]
        let plain = ActivationCache(), steered = ActivationCache()
        var h1 = HookSet(); h1.capture(below + above, into: plain)
        _ = try model.forward([prompt], hooks: h1)
        var h2 = SteeringIntervention.hooks([steer], promptLength: prompt.count)
        h2.capture(below + above, into: steered)   // captures run after the edit at the same point
        _ = try model.forward([prompt], hooks: h2)
        for p in below { #expect(plain.tensor(p)!.scalars == steered.tensor(p)!.scalars, "\(p.name)") }
        for p in above { #expect(plain.tensor(p)!.scalars != steered.tensor(p)!.scalars, "\(p.name)") }
    }

    @Test func promptOnlyAndGeneratedOnlyPositions() throws {
        let model = try TinyModels.model(config)
        let prompt = [7, 8, 9, 10]
        let d = direction(randomVector(32, seed: 3), hook: "blocks.0.hook_resid_post")
        for (positions, changed) in [(SteeringIntervention.Positions.prompt, [true, true, true, true, false, false]),
                                     (.generated, [false, false, false, false, true, true])] {
            let i = try SteeringIntervention(direction: d, config: config, scale: 2, positions: positions)
            let seq = prompt + [11, 12]
            let plain = ActivationCache(), steered = ActivationCache()
            var h = HookSet(); h.capture([.residPost(0)], into: plain)
            _ = try model.forward([seq], hooks: h)
            var h2 = SteeringIntervention.hooks([i], promptLength: prompt.count); h2.capture([.residPost(0)], into: steered)
            _ = try model.forward([seq], hooks: h2)
            let a = plain.tensor(.residPost(0))!, b = steered.tensor(.residPost(0))!
            #expect((0..<6).map { a.row($0) != b.row($0) } == changed, "\(positions)")
        }
    }

    /// Ablation sets every edited row's projection on the unit direction to the target (0:
    /// orthogonal), leaves position 0 bit for bit alone unless asked, and ablates it when asked.
    @Test(arguments: [(0.0, false), (0.0, true), (-2.5, false)])
    func ablationSetsTheProjection(target: Double, first: Bool) throws {
        let model = try TinyModels.model(config)
        let d = direction(randomVector(32, seed: 5), hook: "blocks.1.hook_resid_post")
        let u = d.unit
        let ablate = try SteeringIntervention(direction: d, config: config, mode: .ablate, scale: 0,
                                              ablationTarget: target, ablatesFirstPosition: first)
        let cache = ActivationCache(), before = ActivationCache()
        var hb = HookSet(); hb.capture([.residPost(1)], into: before)
        _ = try model.forward([[4, 5, 6, 7, 8, 9, 10]], hooks: hb)
        var h = SteeringIntervention.hooks([ablate], promptLength: 7)
        h.capture([.residPost(1)], into: cache)
        _ = try model.forward([[4, 5, 6, 7, 8, 9, 10]], hooks: h)
        let t = cache.tensor(.residPost(1))!, t0 = before.tensor(.residPost(1))!
        func projection(_ row: [Float]) -> Double { zip(row, u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        func norm(_ row: [Float]) -> Double { row.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot() }
        var maxBefore = 0.0
        for r in 0..<t.shape[0] {
            if r == 0 && !first {
                #expect(t.row(0) == t0.row(0), "position 0 is left alone")
                continue
            }
            #expect(abs(projection(t.row(r)) - target) < 1e-5 * norm(t.row(r)), "row \(r): projection \(projection(t.row(r))) vs \(target)")
            maxBefore = max(maxBefore, abs(projection(t0.row(r)) - target) / norm(t0.row(r)))
        }
        #expect(maxBefore > 0.01)   // there was something to change
    }

    @Test func meanDifferenceAndPrincipalComponentOnKnownData() throws {
        // Positives = base + 2e0 + noise, negatives = base - 2e0 + noise: both estimators find e0.
        var rng = SeededRandom(seed: 9)
        var pos: [[Float]] = [], neg: [[Float]] = []
        for _ in 0..<40 {
            let base = (0..<8).map { _ in rng.nextGaussian() }
            var p = base, n = base
            p[0] += 2; n[0] -= 2
            for j in 0..<8 { p[j] += 0.1 * rng.nextGaussian(); n[j] += 0.1 * rng.nextGaussian() }
            pos.append(p); neg.append(n)
        }
        let acts = ContrastActivations(positive: pos, negative: neg)
        let md = try acts.meanDifference()
        #expect(abs(md[0] - 4) < 0.1 && md.dropFirst().allSatisfy { abs($0) < 0.1 }, "\(md)")
        let (pc, explained) = try acts.principalComponent()
        #expect(pc[0] > 3.9 && pc[0] < 4.1 && explained > 0.99, "\(pc) \(explained)")
        // Sign: swapping the sets flips the component.
        let (flipped, _) = try ContrastActivations(positive: neg, negative: pos).principalComponent()
        #expect(flipped[0] < -3.9)
        // Centered (repeng's pca_diff): the mean difference is removed, so e0 no longer dominates.
        let (centered, _) = try acts.principalComponent(centered: true)
        #expect(abs(centered[0]) < 0.5 * abs(pc[0]))
        #expect(throws: SteeringError.self) { try ContrastActivations(positive: [], negative: []).meanDifference() }
        #expect(throws: SteeringError.self) { try ContrastActivations(positive: pos, negative: Array(neg.prefix(3))).principalComponent() }
    }

    @Test func directionFileRoundTripsAndRejectsBadFiles() throws {
        let dir = TemporaryDirectory("steer")
        defer { dir.remove() }
        var d = direction(randomVector(32, seed: 6), hook: "blocks.1.hook_resid_post")
        d.provenance = .init(source: "mean-difference", model: "tiny", dataset: "pairs.jsonl", pairs: 12, layer: 1,
                             norm: d.norm, positionRule: PositionRule.meanExcludingFirst.rawValue, notes: ["k": "v"])
        try d.save(to: dir.path + "/d.json")
        let back = try SteeringDirection.load(from: dir.path + "/d.json")
        #expect(back == d)
        let text = try String(contentsOfFile: dir.path + "/d.json", encoding: .utf8)
        #expect(text.contains("\"format\" : \"loupe-steering-direction\"") && text.contains("\"width\" : 32"))
        dir.write("bad.json", Array("{\"format\": \"x\"}".utf8))
        #expect(throws: SteeringError.self) { try SteeringDirection.load(from: dir.path + "/bad.json") }
        // Width and hook checks against the model.
        #expect(throws: SteeringError.widthMismatch(hook: "blocks.1.hook_resid_post", expected: 32, found: 7)) {
            try direction(randomVector(7, seed: 1), hook: "blocks.1.hook_resid_post").hookPoint(in: config)
        }
        #expect(throws: ModelError.self) { try direction(randomVector(32, seed: 1), hook: "blocks.9.hook_resid_post").hookPoint(in: config) }
        #expect(throws: SteeringError.self) { try direction(randomVector(32, seed: 1), hook: "blocks.1.attn.hook_pattern").hookPoint(in: config) }
        // Per-head points take one head's width.
        #expect(try direction(randomVector(8, seed: 1), hook: "blocks.1.attn.hook_z").hookPoint(in: config) == .z(1))
    }

    @Test func controlVectorGGUFReadsBackWithLoupesReader() throws {
        let dir = TemporaryDirectory("steer")
        defer { dir.remove() }
        let a = direction(randomVector(32, seed: 7), hook: "blocks.2.hook_resid_post")
        let b = direction(randomVector(32, seed: 8), hook: "blocks.2.hook_resid_pre")   // = resid_post(1)
        let path = dir.path + "/cv.gguf"
        try ControlVectorExport.write([a, b], config: config, scale: 2, to: path)
        let file = try GGUFFile(path: path)
        #expect(file.metadata["general.architecture"]?.string == "controlvector")
        #expect(file.metadata["controlvector.model_hint"]?.string == "llama")
        #expect(file.metadata["controlvector.layer_count"]?.int == 2)
        #expect(file.tensorNames == ["direction.1", "direction.2"])
        #expect(file.tensorInfo("direction.2")?.type == .f32 && file.shape(of: "direction.2") == [32])
        #expect(try file.tensor("direction.2").scalars == a.vector.map { 2 * $0 })
        #expect(try file.tensor("direction.1").scalars == b.vector.map { 2 * $0 })
        // Same layer twice: summed.
        try ControlVectorExport.write([a, a], config: config, to: path)
        #expect(try GGUFFile(path: path).tensor("direction.2").scalars == a.vector.map { $0 + $0 })
        // What llama.cpp cannot load is refused.
        for hook in ["blocks.0.hook_resid_post", "blocks.1.hook_resid_pre", "blocks.2.hook_mlp_out"] {
            #expect(throws: SteeringError.self) { try ControlVectorExport.encode([direction(a.vector, hook: hook)], config: config) }
        }
    }

    @Test func strengthsParseAndResolve() {
        #expect(SteeringStrength(parsing: "gentle") == .named(.gentle))
        #expect(SteeringStrength(parsing: "4") == .raw(4))
        #expect(SteeringStrength(parsing: "raw:-2.5") == .raw(-2.5))
        #expect(SteeringStrength(parsing: "norm:0.3") == .normMultiple(0.3))
        #expect(SteeringStrength(parsing: "0.5x") == .normMultiple(0.5))
        #expect(SteeringStrength(parsing: "kl:0.2") == .targetKL(0.2))
        #expect(SteeringStrength(parsing: "loud") == nil)
        #expect(SteeringStrength.named(.strong).rawScale(vectorNorm: 2, typicalNorm: 10) == 2)
        #expect(SteeringStrength.raw(3).rawScale(vectorNorm: 2, typicalNorm: 10) == 3)
        #expect(SteeringStrength.targetKL(1).rawScale(vectorNorm: 2, typicalNorm: 10) == nil)
    }

    @Test func severalVectorsAtOnceAddUp() throws {
        let model = try TinyModels.model(config)
        let v1 = randomVector(32, seed: 11), v2 = randomVector(32, seed: 12)
        let i1 = try SteeringIntervention(direction: direction(v1, hook: "blocks.1.hook_resid_post"), config: config, scale: 1)
        let i2 = try SteeringIntervention(direction: direction(v2, hook: "blocks.1.hook_resid_post"), config: config, scale: 1)
        let sum = try SteeringIntervention(direction: direction(zip(v1, v2).map { $0 + $1 }, hook: "blocks.1.hook_resid_post"), config: config, scale: 1)
        let a = try model.forward([[1, 2, 3]], hooks: SteeringIntervention.hooks([i1, i2], promptLength: 3)).logits[0].scalars
        let b = try model.forward([[1, 2, 3]], hooks: SteeringIntervention.hooks([sum], promptLength: 3)).logits[0].scalars
        #expect(TestFiles.maxAbsDiff(a, b) < 1e-4)
    }

    @Test func steeredGenerationIsTheSameWithAndWithoutTheCache() throws {
        let model = try TinyModels.model(config)
        let prompt = [5, 6, 7, 8]
        let d = direction(randomVector(32, seed: 13), hook: "blocks.1.hook_resid_post")
        for (mode, positions) in [(SteeringIntervention.Mode.add, SteeringIntervention.Positions.generated), (.add, .prompt), (.ablate, .all)] {
            let hooks = SteeringIntervention.hooks([try SteeringIntervention(direction: d, config: config, mode: mode, scale: 3, positions: positions)],
                                                   promptLength: prompt.count)
            let cached = try model.generate(prompt: prompt, maxNewTokens: 12, hooks: hooks)
            let uncached = try model.generate(prompt: prompt, maxNewTokens: 12, hooks: hooks, useCache: false)
            #expect(cached.tokens == uncached.tokens, "\(mode) \(positions)")
        }
    }

    @Test func klCalibrationHitsItsTargetAndPerplexityIsTheMeanLoss() throws {
        let model = try TinyModels.model(config)
        let neutral = [[1, 2, 3, 4, 5, 6], [9, 8, 7, 6, 5], [11, 12, 13, 14]]
        let measures = try SteeringMeasures(model: model, prompts: [[3, 4, 5]], neutral: neutral, conceptTokens: [7, 8])
        let d = direction(randomVector(32, seed: 14), hook: "blocks.2.hook_resid_post")
        let template = try SteeringIntervention(direction: d, config: config, scale: 0)
        #expect(try measures.klOnNeutral(SteeringMeasures.measurementHooks([template])) == 0)
        for target in [0.05, 0.3] {
            let (scale, kl) = try KLCalibration(measures: measures).calibrate(template, typicalNorm: 5, target: target)
            #expect(abs(kl - target) < 0.02 * target, "target \(target): \(kl)")
            var check = template
            check.scale = scale
            #expect(try measures.klOnNeutral(SteeringMeasures.measurementHooks([check])) == kl)
        }
        // Perplexity: exp of the mean negative log-probability of the continuation's tokens.
        let prompt = [1, 2, 3], continuation = [4, 5]
        let logits = try model.forward([prompt + continuation], logits: .all).logits[0]
        var nll = 0.0
        for (i, t) in continuation.enumerated() {
            let row = logits.row(prompt.count - 1 + i).map(Double.init)
            let m = row.max()!
            nll -= row[t] - m - log(row.reduce(0) { $0 + exp($1 - m) })
        }
        let ppl = try SteeringMeasures.perplexity(model, of: continuation, after: prompt)
        #expect(abs(ppl - exp(nll / 2)) < 1e-3 * ppl)
        #expect(throws: SteeringError.self) { try SteeringMeasures(model: model, prompts: [], neutral: [[1]], conceptTokens: []) }
    }
}
