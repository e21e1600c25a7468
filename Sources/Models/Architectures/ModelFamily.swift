import Formats

/// A family read from GGUF files: how its `general.architecture` values map metadata to a
/// ``TransformerConfig`` and llama.cpp's tensor names to ``TransformerWeights``.
///
/// A family is one file under `Architectures/`; the loader reaches it only through
/// ``ModelFamilyRegistry``, whose entries carry the per-architecture facts (such as
/// whether the converter permuted q/k rows) so the family never compares names.
protocol GGUFFamily: SendableMetatype {
    /// Config from metadata under the `{architecture.name}.` prefix.
    static func config(gguf: GGUFFile, architecture: GGUFArchitecture) throws -> TransformerConfig
    /// Weights in Hugging Face's layout (`[out, in]`, `rotate_half` q/k rows).
    static func weights(gguf: WeightReader, config: TransformerConfig,
                        architecture: GGUFArchitecture) throws -> TransformerWeights
}

/// A family read from Hugging Face folders: how its `model_type` values map `config.json`
/// to a ``TransformerConfig`` and safetensors names to ``TransformerWeights``.
protocol HuggingFaceFamily: SendableMetatype {
    /// Config from `config.json`; errors name `hf.file` and the key.
    static func config(hf: HFConfig) throws -> TransformerConfig
    /// Weights from the checkpoint's tensor names.
    static func weights(hf: WeightReader, config: TransformerConfig) throws -> TransformerWeights
}
