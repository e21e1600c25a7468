import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// A tiny Llama written as GGUF the way llama.cpp's converter writes it (q/k rows permuted for
/// its RoPE, `ne` reversed, llama.* metadata) must load to the same model, and broken variants
/// must each fail with their own error.
@Suite struct GGUFModelTests {
    let config = TinyModels.llamaConfig()

    func ggufBytes(_ model: Transformer, architecture: String = "llama", drop: String? = nil,
                   reshape: String? = nil) -> [UInt8] {
        TinyGGUF.bytes(model, architecture: architecture, drop: drop, reshape: reshape)
    }

    @Test func ggufLoadsToTheSameModelAsMemory() throws {
        let model = try TinyModels.model(config)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let loaded = try ModelLoader.load(path: dir.write("tiny.gguf", ggufBytes(model)))
        #expect(loaded.config == config.withName("tiny"))
        #expect(loaded.unusedTensors.isEmpty)
        let tokens = [[3, 1, 4, 1, 5, 9, 2, 6]]
        let a = try model.forward(tokens, logits: .all).logits[0]
        let b = try loaded.transformer.forward(tokens, logits: .all).logits[0]
        #expect(TestFiles.maxAbsDiff(a.scalars, b.scalars) < 1e-5)
    }

    @Test func brokenModelFilesGiveTheirOwnErrors() throws {
        let model = try TinyModels.model(config)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let mamba = dir.write("mamba.gguf", ggufBytes(model, architecture: "mamba"))
        #expect(throws: ModelError.unknownArchitecture(file: mamba, architecture: "mamba",
                                                       supported: ["llama", "mistral", "qwen2"])) {
            try ModelLoader.load(path: mamba)
        }
        let missing = dir.write("missing.gguf", ggufBytes(model, drop: "blk.1.ffn_up.weight"))
        do { _ = try ModelLoader.load(path: missing); Issue.record("should fail") } catch {
            #expect("\(error)".contains("blk.1.ffn_up.weight"), "\(error)")
        }
        let reshaped = dir.write("reshaped.gguf", ggufBytes(model, reshape: "blk.0.attn_v.weight"))
        #expect(throws: ModelError.tensorShape(file: reshaped, tensor: "layer 0 v projection",
                                               expected: [16, 32], found: [256, 2])) {
            try ModelLoader.load(path: reshaped)
        }
        let truncated = ggufBytes(model)
        let cut = dir.write("cut.gguf", Array(truncated.prefix(truncated.count - 100)))
        do { _ = try ModelLoader.load(path: cut); Issue.record("should fail") } catch {
            #expect(error is FormatError, "\(error)")
            #expect("\(error)".contains("cut.gguf"))
        }
    }
}

extension TransformerConfig {
    func withName(_ name: String) -> TransformerConfig {
        var c = self
        c.name = name
        return c
    }
}
