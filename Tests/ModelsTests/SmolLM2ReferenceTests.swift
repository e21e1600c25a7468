import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// The default model against `transformers` loading the same GGUF in float32
/// (fixtures from scripts/fixtures/models/make_smollm2_reference.py).
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SmolLM2ReferenceTests {
    struct FileRef: Decodable { let file: String; let shape: [Int] }
    struct Prompt: Decodable {
        let index: Int, text: String, ids: [Int], files: [String: FileRef]
        let top10: Top10
        let spot_checks: [String: [String: FileRef]]?
    }
    struct Top10: Decodable { let ids: [Int] }
    struct Generation: Decodable { let prompt_index: Int; let prompt_ids: [Int]; let generated_ids: [Int] }
    struct Reference: Decodable { let prompts: [Prompt]; let generations: [Generation] }

    static let dir = TestFiles.fixtures.appendingPathComponent("models/smollm2")
    static let reference: Reference = try! JSONDecoder().decode(
        Reference.self, from: Data(contentsOf: dir.appendingPathComponent("reference.json")))

    func floats(_ f: FileRef) throws -> [Float] {
        let v = try TestFiles.floats(Self.dir.appendingPathComponent(f.file))
        #expect(v.count == f.shape.reduce(1, *))
        return v
    }

    @Test func lastPositionLogitsMatchTransformers() throws {
        let model = try RealModel.shared()
        #expect(Self.reference.prompts.count >= 8)
        // All prompts in one batch: this also checks batching against the reference.
        let logits = try model.transformer.forward(Self.reference.prompts.map(\.ids)).logits
        for (p, got) in zip(Self.reference.prompts, logits) {
            let want = try floats(p.files["logits_last"]!)
            let range = want.max()! - want.min()!
            let diff = TestFiles.maxAbsDiff(got.scalars, want)
            #expect(diff <= 1e-3 * range, "prompt \(p.index): max |Δlogit| \(diff), range \(range)")
            let top = got.scalars.indices.sorted { got.scalars[$0] > got.scalars[$1] }.prefix(10)
            #expect(Array(top) == p.top10.ids, "prompt \(p.index) top-10")
        }
    }

    @Test func residualStreamMatchesAfterEveryLayer() throws {
        let model = try RealModel.shared()
        let c = model.config
        for p in Self.reference.prompts {
            let cache = ActivationCache()
            var hooks = HookSet()
            hooks.capture([.embed] + (0..<c.nLayers).map { .residPost($0) }, into: cache)
            _ = try model.transformer.forward([p.ids], hooks: hooks, logits: .none)
            let embed = try floats(p.files["embed"]!)
            #expect(TestFiles.relativeError(cache.tensor(.embed)!.scalars, embed) < 1e-6)
            let resid = try floats(p.files["resid_post"]!)
            let width = p.ids.count * c.dModel
            for l in 0..<c.nLayers {
                let err = TestFiles.relativeError(cache.tensor(.residPost(l))!.scalars,
                                                  Array(resid[(l * width)..<((l + 1) * width)]))
                #expect(err < 1e-3, "prompt \(p.index) layer \(l): relative error \(err)")
            }
        }
    }

    @Test func hookActivationsMatchTransformers() throws {
        let model = try RealModel.shared()
        let p = Self.reference.prompts[0]
        let cache = ActivationCache()
        var hooks = HookSet()
        for l in [0, 15] { hooks.capture([.pattern(l), .mlpPost(l), .residMid(l), .rotQ(l), .rotK(l)], into: cache) }
        _ = try model.transformer.forward([p.ids], hooks: hooks, logits: .none)
        for (layer, files) in p.spot_checks ?? [:] {
            let l = Int(layer)!
            let pairs: [(HookPoint, String)] = [(.pattern(l), "attn_pattern"), (.mlpPost(l), "mlp_post"),
                                                (.residMid(l), "resid_mid"), (.rotQ(l), "q_rot"), (.rotK(l), "k_rot")]
            for (point, key) in pairs {
                let want = try floats(files[key]!)
                let got = cache.tensor(point)!
                #expect(got.shape == files[key]!.shape, "\(point) shape")
                let err = TestFiles.relativeError(got.scalars, want)
                #expect(err < 1e-3, "\(point): relative error \(err)")
            }
        }
    }

    @Test func greedyGenerationMatchesTransformers() throws {
        let model = try RealModel.shared()
        #expect(Self.reference.generations.count >= 3)
        for g in Self.reference.generations {
            let out = try model.transformer.generate(prompt: g.prompt_ids, maxNewTokens: g.generated_ids.count)
            #expect(out.tokens == g.generated_ids, "prompt \(g.prompt_index)")
        }
    }

    @Test func steeredGenerationIsTheSameWithAndWithoutTheCache() throws {
        let model = try RealModel.shared()
        let prompt = Self.reference.prompts[0].ids
        var hooks = HookSet()
        var rng = SeededRandom(seed: 9)
        hooks.add((0..<model.config.dModel).map { _ in rng.nextGaussian() }, at: .residPost(10), scale: 2,
                  positions: .from(prompt.count - 1))
        let cached = try model.transformer.generate(prompt: prompt, maxNewTokens: 12, hooks: hooks)
        let recomputed = try model.transformer.generate(prompt: prompt, maxNewTokens: 12, hooks: hooks, useCache: false)
        #expect(cached.tokens == recomputed.tokens)
        let plain = try model.transformer.generate(prompt: prompt, maxNewTokens: 12)
        #expect(plain.tokens != cached.tokens)
    }

    @Test func promptsLongerThanTheContextAreRefused() throws {
        let model = try RealModel.shared()
        let tooLong = Array(repeating: 42, count: model.config.contextLength + 1)
        #expect(throws: ModelError.promptTooLong(sequence: 0, tokens: tooLong.count,
                                                 contextLength: model.config.contextLength)) {
            try model.transformer.forward([tooLong])
        }
    }
}
