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
        #expect(throws: ModelError.tensorShape(file: reshaped, tensor: "blk.0.attn_v.weight",
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

/// Metadata that lies about the tensors, or holds values the pass cannot use: each is an error
/// naming the file and the value, before a tensor is read (these used to trap, divide by zero,
/// read past the KV rows, reserve hundreds of GB, or print nan probabilities).
@Suite struct GGUFLyingMetadataTests {
    func loadError(_ overriding: [String: GGUFValue]) throws -> String {
        let model = try TinyModels.model(TinyModels.llamaConfig())
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.write("lying.gguf", TinyGGUF.bytes(model, overriding: overriding))
        do { _ = try ModelLoader.load(path: file); return "(no error)" } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(file + ": "), "\(message)")
            return String(message.dropFirst(file.count + 2))
        }
    }

    @Test func headCountsThatDoNotDivideAreRefused() throws {
        #expect(try loadError(["llama.attention.head_count": .uint32(2), "llama.attention.head_count_kv": .uint32(4)])
                == "metadata 'KV head count' is 4, which does not divide the 2 query heads")
        #expect(try loadError(["llama.attention.head_count_kv": .uint32(3)])
                == "metadata 'KV head count' is 3, which does not divide the 4 query heads")
        #expect(try loadError(["llama.attention.head_count": .uint32(5), "llama.attention.head_count_kv": .uint32(2)])
                == "metadata 'KV head count' is 2, which does not divide the 5 query heads")
        #expect(try loadError(["llama.attention.head_count": .uint32(0)]).contains("llama.attention.head_count"))
    }

    @Test func valuesThePassCannotUseAreRefused() throws {
        #expect(try loadError(["llama.rope.freq_base": .float32(0)])
                == "metadata 'RoPE base (rope_theta)' is 0.0, expected a finite number > 0")
        #expect(try loadError(["llama.rope.freq_base": .float32(-10000)]).contains("is -10000.0, expected a finite number > 0"))
        #expect(try loadError(["llama.attention.layer_norm_rms_epsilon": .float32(-1e-5)])
                == "metadata 'norm epsilon' is -1e-05, expected a finite number > 0")
        #expect(try loadError(["llama.attention.key_length": .uint32(7)]).contains("head width"))
    }

    @Test func aLayerCountBeyondTheTensorsIsRefusedBeforeAnythingIsSizedFromIt() throws {
        #expect(try loadError(["llama.block_count": .uint32(2_147_483_647)])
                == "metadata 'layer count' says 2147483647 layers but the file has weights for 2 (no 'blk.2.attn_q.weight')")
        #expect(try loadError(["llama.block_count": .uint32(3)]).contains("says 3 layers but the file has weights for 2"))
    }
}

extension TransformerConfig {
    func withName(_ name: String) -> TransformerConfig {
        var c = self
        c.name = name
        return c
    }
}
