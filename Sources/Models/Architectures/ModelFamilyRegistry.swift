// Reference for `permutedQK`: llama.cpp's `convert_hf_to_gguf.py` applies
// `LlamaModel.permute` to q/k (weights and biases) in `LlamaModel.modify_tensors`, which the
// classes writing `llama` (Llama, Mistral, SmolLM) and `mistral3` files inherit; `Qwen2Model`
// is a plain `TextModel` and writes q/k rows unchanged.

/// One GGUF `general.architecture` value the loader reads.
struct GGUFArchitecture: Sendable {
    /// The `general.architecture` string, also the metadata key prefix.
    let name: String
    let family: any GGUFFamily.Type
    /// Whether llama.cpp's converter permuted the rows of each q/k head (pairs interleaved
    /// for its RoPE); the family undoes it so every file format gives Hugging Face's layout.
    let permutedQK: Bool
}

/// One Hugging Face `model_type` value the loader reads.
struct HuggingFaceArchitecture: Sendable {
    /// The `model_type` string of `config.json`.
    let modelType: String
    let family: any HuggingFaceFamily.Type
}

/// The one table of architectures: file-format names to the family that reads them.
///
/// Adding a family is one file under `Architectures/` conforming to ``GGUFFamily`` and/or
/// ``HuggingFaceFamily``, plus one line per name below. Names not listed are refused with
/// ``ModelError/unknownArchitecture(file:architecture:supported:)`` listing these.
enum ModelFamilyRegistry {
    /// By GGUF `general.architecture`.
    static let gguf: [GGUFArchitecture] = [
        GGUFArchitecture(name: "llama", family: LlamaFamily.self, permutedQK: true),
        GGUFArchitecture(name: "mistral", family: LlamaFamily.self, permutedQK: true),
        GGUFArchitecture(name: "qwen2", family: LlamaFamily.self, permutedQK: false),
    ]

    /// By Hugging Face `model_type`.
    static let huggingFace: [HuggingFaceArchitecture] = [
        HuggingFaceArchitecture(modelType: "llama", family: LlamaFamily.self),
        HuggingFaceArchitecture(modelType: "mistral", family: LlamaFamily.self),
        HuggingFaceArchitecture(modelType: "qwen2", family: LlamaFamily.self),
        HuggingFaceArchitecture(modelType: "gpt2", family: GPT2.self),
    ]

    /// The GGUF architecture named `name`, or nil when none is registered.
    static func gguf(_ name: String) -> GGUFArchitecture? { gguf.first { $0.name == name } }

    /// The Hugging Face architecture whose `model_type` is `type`, or nil.
    static func huggingFace(_ type: String) -> HuggingFaceArchitecture? {
        huggingFace.first { $0.modelType == type }
    }

    /// Registered GGUF names, sorted (for error messages).
    static var ggufNames: [String] { gguf.map(\.name).sorted() }
    /// Registered `model_type` names, sorted (for error messages).
    static var huggingFaceNames: [String] { huggingFace.map(\.modelType).sorted() }
}
