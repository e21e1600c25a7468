import Linalg
import LoupeTestSupport
import Models
import Testing

/// The registry's per-architecture facts: which GGUF architectures llama.cpp wrote with q/k
/// rows permuted for its RoPE (llama, mistral) and which not (qwen2).
@Suite struct ModelFamilyRegistryTests {
    let config = TinyModels.llamaConfig()
    let tokens = [[3, 1, 4, 1, 5, 9, 2, 6]]

    /// Logits of `model` written as a GGUF of `architecture` and loaded back.
    func loadedLogits(_ model: Transformer, architecture: String, permuteQK: Bool) throws -> Tensor {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.write("\(architecture).gguf", TinyGGUF.bytes(model, architecture: architecture, permuteQK: permuteQK))
        let loaded = try ModelLoader.load(path: file)
        #expect(loaded.config.architecture == architecture)
        return try loaded.transformer.forward(tokens, logits: .all).logits[0]
    }

    @Test func mistralGGUFIsUnpermutedLikeLlama() throws {
        let model = try TinyModels.model(config)
        let llama = try loadedLogits(model, architecture: "llama", permuteQK: true)
        let mistral = try loadedLogits(model, architecture: "mistral", permuteQK: true)
        #expect(mistral == llama)
        // The un-permutation matters: the same rows left in HF order load to another model.
        let unpermuted = try loadedLogits(model, architecture: "mistral", permuteQK: false)
        #expect(TestFiles.maxAbsDiff(unpermuted.scalars, llama.scalars) > 1e-3)
    }

    @Test func qwen2GGUFKeepsHuggingFaceRows() throws {
        let model = try TinyModels.model(config)
        let llama = try loadedLogits(model, architecture: "llama", permuteQK: true)
        #expect(try loadedLogits(model, architecture: "qwen2", permuteQK: false) == llama)
        let permuted = try loadedLogits(model, architecture: "qwen2", permuteQK: true)
        #expect(TestFiles.maxAbsDiff(permuted.scalars, llama.scalars) > 1e-3)
    }
}
