import Formats
import Foundation
import Linalg
import Tokenizers

/// A model ready to run: the transformer, its tokenizer, and where it came from.
public struct LoadedModel: Sendable {
    public let transformer: Transformer
    public let tokenizer: Tokenizer
    /// The file or folder it was loaded from.
    public let path: String
    /// `gguf` or `safetensors`.
    public let format: String
    /// Tensors in the file that the architecture does not use (reported, not fatal).
    public let unusedTensors: [String]
    /// Seconds spent loading.
    public let loadSeconds: Double

    public var config: TransformerConfig { transformer.config }
}

/// Loads models from GGUF files or Hugging Face folders (`config.json`, safetensors,
/// `tokenizer.json`). Which family reads which architecture is ``ModelFamilyRegistry``'s
/// table; a new architecture is one file under `Architectures/` plus one line there.
public enum ModelLoader {

    /// Loads the model at `path`: a `.gguf` file or a folder with `config.json`. `weights`
    /// says whether GGUF matrices stay in their block format and safetensors F16/BF16 matrices
    /// stay 16-bit (``WeightFormat/native``), or every weight is converted to float32
    /// (``WeightFormat/f32``).
    /// - Throws: ``ModelError`` or the format's error, naming the file and what was wrong.
    public static func load(path: String, weights: WeightFormat = .default) throws -> LoadedModel {
        let start = Date()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.unrecognizedModelPath(path: path)
        }
        let loaded: (Transformer, Tokenizer, String, [String])
        if isDirectory.boolValue {
            loaded = try loadHuggingFace(directory: path, weights: weights)
        } else {
            loaded = try loadGGUF(path: path, weights: weights)
        }
        return LoadedModel(transformer: loaded.0, tokenizer: loaded.1, path: path, format: loaded.2,
                           unusedTensors: loaded.3, loadSeconds: Date().timeIntervalSince(start))
    }

    static func loadGGUF(path: String, weights: WeightFormat) throws -> (Transformer, Tokenizer, String, [String]) {
        let gguf = try GGUFFile(path: path)
        guard let arch = gguf.metadata["general.architecture"]?.string else {
            throw ModelError.missingMetadata(file: path, key: "general.architecture")
        }
        guard let entry = ModelFamilyRegistry.gguf(arch) else {
            throw ModelError.unknownArchitecture(file: path, architecture: arch,
                                                 supported: ModelFamilyRegistry.ggufNames)
        }
        let config = try entry.family.config(gguf: gguf, architecture: entry)
        try config.validate(file: path)
        let reader = WeightReader(gguf, format: weights)
        let weights = try entry.family.weights(gguf: reader, config: config, architecture: entry)
        let model = try Transformer(config: config, weights: weights, file: path)
        let tokenizer = try Tokenizer(gguf: gguf)
        return (model, tokenizer, "gguf", reader.unused())
    }

    static func loadHuggingFace(directory: String, weights format: WeightFormat) throws -> (Transformer, Tokenizer, String, [String]) {
        let configPath = directory + "/config.json"
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.unrecognizedModelPath(path: directory)
        }
        let json = try HFConfig(path: configPath)
        let type = try json.string("model_type") ?? "(none)"
        guard let entry = ModelFamilyRegistry.huggingFace(type) else {
            throw ModelError.unknownArchitecture(file: configPath, architecture: type,
                                                 supported: ModelFamilyRegistry.huggingFaceNames)
        }
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let reader = WeightReader(checkpoint, format: format)
        let config = try entry.family.config(hf: json)
        try config.validate(file: configPath)
        let weights = try entry.family.weights(hf: reader, config: config)
        let model = try Transformer(config: config, weights: weights, file: directory)
        let tokenizerConfig = directory + "/tokenizer_config.json"
        let tokenizer = try Tokenizer(
            tokenizerJSON: directory + "/tokenizer.json",
            tokenizerConfig: FileManager.default.fileExists(atPath: tokenizerConfig) ? tokenizerConfig : nil)
        let ignorable = [".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq"]
        return (model, tokenizer, "safetensors", reader.unused(ignoring: ignorable))
    }

    /// The default model's path: `$LOUPE_MODEL`, else the cache that `scripts/setup.sh` fills.
    public static var defaultModelPath: String {
        if let p = ProcessInfo.processInfo.environment["LOUPE_MODEL"], !p.isEmpty { return p }
        return defaultCacheDirectory + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    /// `$LOUPE_CACHE`, else `~/.cache/loupe`.
    public static var defaultCacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let c = env["LOUPE_CACHE"], !c.isEmpty { return c }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/loupe"
    }
}
