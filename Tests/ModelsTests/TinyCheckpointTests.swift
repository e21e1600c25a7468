import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Tiny random Hugging Face checkpoints (GPT-2; Llama with GQA, llama3 RoPE scaling and two
/// shards; Qwen2 with q/k/v biases) against `transformers`' outputs on the same weights
/// (fixtures from scripts/fixtures/models/make_tiny_models.py).
@Suite struct TinyCheckpointTests {
    struct FileRef: Decodable { let file: String; let shape: [Int] }
    struct Sequence: Decodable { let index: Int; let ids: [Int]; let files: [String: FileRef] }
    struct Rope: Decodable { let inv_freq: [Float] }
    struct Reference: Decodable { let sequences: [Sequence]; let n_layers: Int; let d_model: Int; let rope: Rope? }

    static let names = ["tiny-gpt2", "tiny-llama", "tiny-qwen2"]

    func directory(_ name: String) -> URL { TestFiles.fixtures.appendingPathComponent("models/\(name)") }

    func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory(name).appendingPathComponent("reference.json")))
    }

    @Test(arguments: names)
    func logitsAndResidualsMatchTransformers(name: String) throws {
        let model = try ModelLoader.load(path: directory(name).path)
        let ref = try reference(name)
        #expect(model.format == "safetensors")
        #expect(model.unusedTensors.isEmpty, "unused: \(model.unusedTensors)")
        let c = model.config
        for seq in ref.sequences {
            let cache = ActivationCache()
            var hooks = HookSet()
            hooks.capture([.residPre(0)] + (0..<c.nLayers).map { .residPost($0) }, into: cache)
            let logits = try model.transformer.forward([seq.ids], hooks: hooks, logits: .all).logits[0]
            let want = try TestFiles.floats(directory(name).appendingPathComponent(seq.files["logits"]!.file))
            let diff = TestFiles.maxAbsDiff(logits.scalars, want)
            #expect(diff < 1e-4, "\(name) sequence \(seq.index): max |Δlogit| \(diff)")
            let pre = try TestFiles.floats(directory(name).appendingPathComponent(seq.files["resid_pre0"]!.file))
            #expect(TestFiles.maxAbsDiff(cache.tensor(.residPre(0))!.scalars, pre) < 1e-5)
            let post = try TestFiles.floats(directory(name).appendingPathComponent(seq.files["resid_post"]!.file))
            let w = seq.ids.count * c.dModel
            for l in 0..<c.nLayers {
                #expect(TestFiles.maxAbsDiff(cache.tensor(.residPost(l))!.scalars, Array(post[(l * w)..<((l + 1) * w)])) < 1e-4)
            }
        }
    }

    @Test func configsAreReadAsWritten() throws {
        let gpt2 = try ModelLoader.load(path: directory("tiny-gpt2").path).config
        #expect(gpt2.positionKind == .learned && gpt2.normKind == .layerNorm && gpt2.mlpKind == .geluTanh)
        #expect(gpt2.hookPoints.contains(.posEmbed))
        let llama = try ModelLoader.load(path: directory("tiny-llama").path).config
        #expect(llama.nKVHeads == 2 && llama.nHeads == 4 && !llama.tiedEmbeddings)
        #expect(llama.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 32))
        let inv = llama.ropeInverseFrequencies(), want = try reference("tiny-llama").rope!.inv_freq
        #expect(TestFiles.maxAbsDiff(inv, want) < 1e-6 * 1)
        let qwen = try ModelLoader.load(path: directory("tiny-qwen2").path).config
        #expect(qwen.attentionBias && qwen.tiedEmbeddings)
    }

    @Test func unsupportedModelTypesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-arch-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try #"{"model_type": "mamba", "hidden_size": 8}"#.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: ModelError.unknownArchitecture(file: dir.path + "/config.json", architecture: "mamba",
                                                       supported: ["gpt2", "llama", "mistral", "qwen2"])) {
            try ModelLoader.load(path: dir.path)
        }
        #expect(throws: ModelError.unrecognizedModelPath(path: "/nonexistent/model.gguf")) {
            try ModelLoader.load(path: "/nonexistent/model.gguf")
        }
    }

    /// A copy of fixture `name` whose config.json has `edit` applied; returns the error of loading it.
    func loadErrorWithConfig(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let src = directory(name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: src.path) where f != "config.json" {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(f), withDestinationURL: src.appendingPathComponent(f))
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        do { _ = try ModelLoader.load(path: dir.path); return "(no error)" } catch { return "\(error)" }
    }

    @Test func configValuesOfTheWrongTypeOrThatCannotWorkAreNamed() throws {
        // Strings where numbers belong used to fall back to the defaults silently.
        #expect(try loadErrorWithConfig("tiny-llama") { $0["rms_norm_eps"] = "1e-5" }
                .hasSuffix("config.json: metadata 'rms_norm_eps' is \"1e-5\", expected a number"))
        #expect(try loadErrorWithConfig("tiny-llama") { $0["rope_theta"] = "10000"; $0["rope_parameters"] = nil; $0["rope_scaling"] = nil }
                .contains("rope_theta' is \"10000\", expected a number"))
        // Zero heads used to divide by zero while the config was built.
        #expect(try loadErrorWithConfig("tiny-llama") { $0["num_attention_heads"] = 0 }
                .hasSuffix("config.json: metadata 'head count' is 0, expected a size between 1 and 2147483648"))
        #expect(try loadErrorWithConfig("tiny-gpt2") { $0["n_head"] = 0 }.contains("metadata 'head count' is 0"))
        // A layer count far beyond the weights: refused before anything is sized from it.
        #expect(try loadErrorWithConfig("tiny-llama") { $0["num_hidden_layers"] = 1_000_000_000 }
                .contains("metadata 'layer count' says 1000000000 layers but the file has weights for"))
        // GPT-2's fused c_attn of the wrong width: the file's tensor is named, no precondition trips.
        #expect(try loadErrorWithConfig("tiny-gpt2") { $0["n_embd"] = (($0["n_embd"] as? Int) ?? 32) * 2 }
                .contains("has shape"))
    }

    @Test func aMissingTensorIsNamed() throws {
        // Copy tiny-qwen2 without one weight: the error names the file and the missing tensor.
        let src = directory("tiny-qwen2")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-missing-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        try SafetensorsWriter.copy(from: src.appendingPathComponent("model.safetensors").path,
                                   to: dir.appendingPathComponent("model.safetensors").path,
                                   dropping: "model.layers.1.mlp.up_proj.weight")
        do {
            _ = try ModelLoader.load(path: dir.path)
            Issue.record("loading should fail")
        } catch {
            #expect("\(error)".contains("model.layers.1.mlp.up_proj.weight"), "\(error)")
        }
    }
}
