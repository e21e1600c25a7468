import Analyses
import Foundation
import LoupeTestSupport
import Models
import Testing

/// ActAdd (Turner et al. 2023) against the same method written with `transformers` hooks on the
/// tiny Llama (scripts/fixtures/steering/make_actadd_reference.py).
@Suite struct ActivationAdditionTests {
    struct Reference: Decodable {
        let positive: String, negative: String, prompt: String
        let positive_ids: [Int], negative_ids: [Int], prompt_ids: [Int], space_id: Int
        let padded_positive_ids: [Int], padded_negative_ids: [Int]
        let layer: Int, coefficient: Double, difference_norms: [Float]
        let logits_file: String, logits_shape: [Int], max_abs_logit_change: Float
    }

    static let dir = TestFiles.fixtures.appendingPathComponent("steering")
    static let modelDir = TestFiles.fixtures.appendingPathComponent("models/tiny-llama")

    @Test func steeredLogitsMatchTransformers() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.dir.appendingPathComponent("actadd.json")))
        let m = try ModelLoader.load(path: Self.modelDir.path)
        let a = try ActivationAddition(model: m.transformer, positive: ref.positive_ids, negative: ref.negative_ids,
                                       padToken: ref.space_id, layer: ref.layer, coefficient: ref.coefficient)
        // The shorter prompt is padded on the right with the space token.
        #expect(a.positive == ref.padded_positive_ids && a.negative == ref.padded_negative_ids)
        #expect(a.count == ref.difference_norms.count && a.point == .residPre(ref.layer))
        let norms = a.difference.map { row in row.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        #expect(TestFiles.relativeError(norms, ref.difference_norms) < 1e-5)
        var hooks = HookSet()
        try a.install(into: &hooks, promptLength: ref.prompt_ids.count)
        let logits = try m.transformer.forward([ref.prompt_ids], hooks: hooks, logits: .all).logits[0]
        let want = try TestFiles.floats(Self.dir.appendingPathComponent(ref.logits_file))
        #expect(logits.shape == ref.logits_shape)
        let diff = TestFiles.maxAbsDiff(logits.scalars, want)
        // The edit moves the logits by up to ~16; Loupe and transformers agree to float rounding.
        #expect(ref.max_abs_logit_change > 1 && diff < 1e-3, "max |Δlogit| \(diff)")
        // From text: the tokenizer's ids and its space token give the same edit.
        let fromText = try ActivationAddition(model: m.transformer, tokenizer: m.tokenizer, positive: ref.positive,
                                              negative: ref.negative, layer: ref.layer, coefficient: ref.coefficient)
        #expect(fromText == a)
    }

    @Test func generationEditsOnlyThePromptsFirstPositions() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.dir.appendingPathComponent("actadd.json")))
        let m = try ModelLoader.load(path: Self.modelDir.path)
        let a = try ActivationAddition(model: m.transformer, positive: ref.positive_ids, negative: ref.negative_ids,
                                       padToken: ref.space_id, layer: ref.layer, coefficient: ref.coefficient)
        var hooks = HookSet()
        try a.install(into: &hooks, promptLength: ref.prompt_ids.count)
        // With the KV cache the generated tokens see the edit only through the cached keys and
        // values: the same tokens as recomputing every step (which re-edits the same rows).
        let cached = try m.transformer.generate(prompt: ref.prompt_ids, maxNewTokens: 8, hooks: hooks)
        let recomputed = try m.transformer.generate(prompt: ref.prompt_ids, maxNewTokens: 8, hooks: hooks, useCache: false)
        #expect(cached.tokens == recomputed.tokens)
        // Rows past the pair's length are not edited.
        let cache = ActivationCache(), plain = ActivationCache()
        var watch = hooks
        watch.capture([.residPre(ref.layer)], into: cache)
        var watchPlain = HookSet()
        watchPlain.capture([.residPre(ref.layer)], into: plain)
        _ = try m.transformer.forward([ref.prompt_ids], hooks: watch, logits: .none)
        _ = try m.transformer.forward([ref.prompt_ids], hooks: watchPlain, logits: .none)
        let edited = cache.tensor(.residPre(ref.layer))!, base = plain.tensor(.residPre(ref.layer))!
        for t in 0..<ref.prompt_ids.count {
            let moved = zip(edited.row(t), base.row(t)).contains { $0 != $1 }
            #expect(moved == (t < a.count), "position \(t)")
        }
        // A prompt shorter than the pair is refused with both lengths named.
        var short = HookSet()
        #expect(throws: SteeringError.invalid("the prompt has 2 token(s) but the ActAdd pair has \(a.count): ActAdd edits the prompt's first \(a.count) positions")) {
            try a.install(into: &short, promptLength: 2)
        }
        #expect(throws: SteeringError.self) {
            try ActivationAddition(model: m.transformer, positive: [], negative: [1], padToken: 0, layer: 0, coefficient: 1)
        }
    }
}
