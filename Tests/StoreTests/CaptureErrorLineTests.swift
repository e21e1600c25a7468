import Foundation
import LoupeTestSupport
import Models
import Store
import Testing

/// A model error during a capture names the prompt's line in its file, not its place in the
/// batch ("sequence 0" used to be what was line 4 of the file).
@Suite struct CaptureErrorLineTests {
    @Test func aTokenOutsideTheVocabularyNamesThePromptsLine() throws {
        let config = TinyModels.llamaConfig(layers: 2)
        let model = try TinyModels.model(config)
        let store = try ActivationStore(path: try temporaryStorePath(), create: true)
        let modelID = try store.register(tinyIdentity(config))
        var prompts = tinyPrompts(5, vocab: config.vocabSize)
        prompts[3].tokens[1] = config.vocabSize + 7   // the prompt on line 4, in the batch's first pass
        let data = try store.dataset(name: "tiny", source: "memory", encoding: "{}", tokenizerHash: "bb", prompts: prompts)
        let capture = try store.capture(model: modelID, dataset: data.id, hooks: ["blocks.1.hook_resid_post"],
                                        positions: CapturePositions.all.spec, dtype: .f32)
        let kept = data.prompts.map { Array(0..<$0.tokens.count) }
        let message = errorText {
            _ = try Capturer(model: model, store: store, capture: capture, batchSize: 2).run(prompts: data.prompts, positions: kept)
        }
        #expect(message == "prompt line 4 (prompt 3): token 1: id \(config.vocabSize + 7) is outside the model's vocabulary (0..<\(config.vocabSize))")
        // The batch before it is stored; nothing of the failing batch is.
        #expect(try store.completedPrompts(capture: capture.id).count == 2)
    }
}
