import Formats
import Linalg

// Reference: Hugging Face transformers `modeling_gpt2.py` and nanoGPT's model.py
// (LayerNorm, learned positions, fused qkv `c_attn`, tanh GELU, tied unembedding).
// GPT-2 checkpoints store linear weights as Conv1D `[in, out]`; they are transposed here.

/// GPT-2 models from a Hugging Face checkpoint.
enum GPT2: HuggingFaceFamily {
    static func config(hf j: HFConfig) throws -> TransformerConfig {
        let d = try j.int("n_embd"), heads = try j.int("n_head")
        if let act = j.string("activation_function"), !["gelu_new", "gelu_pytorch_tanh"].contains(act) {
            throw ModelError.badMetadata(file: j.file, key: "activation_function",
                                         reason: "is '\(act)'; supported: gelu_new, gelu_pytorch_tanh")
        }
        return TransformerConfig(
            architecture: "gpt2", name: j.string("_name_or_path") ?? "gpt2",
            vocabSize: try j.int("vocab_size"), dModel: d, nLayers: try j.int("n_layer"),
            nHeads: heads, nKVHeads: heads, headDim: d / heads,
            dMLP: j.optionalInt("n_inner") ?? 4 * d,
            contextLength: try j.int("n_positions"),
            normKind: .layerNorm, normEps: Float(j.double("layer_norm_epsilon") ?? 1e-5),
            mlpKind: .geluTanh, positionKind: .learned, ropeTheta: 0, ropeScaling: nil,
            tiedEmbeddings: true, attentionBias: true)
    }

    static func weights(hf reader: WeightReader, config c: TransformerConfig) throws -> TransformerWeights {
        // Checkpoints saved from GPT2LMHeadModel prefix names with "transformer."; GPT2Model does not.
        let root = reader.has("transformer.wte.weight") ? "transformer." : ""
        let d = c.dModel
        let layers = try (0..<c.nLayers).map { l -> LayerWeights in
            let p = "\(root)h.\(l)."
            let qkv = try reader.require(p + "attn.c_attn.weight").transposed2D()   // [3d, d]
            let qkvBias = try reader.require(p + "attn.c_attn.bias")                // [3d]
            return LayerWeights(
                attnNorm: try reader.require(p + "ln_1.weight"), attnNormBias: try reader.require(p + "ln_1.bias"),
                wq: qkv.slice(rows: 0..<d), wk: qkv.slice(rows: d..<(2 * d)), wv: qkv.slice(rows: (2 * d)..<(3 * d)),
                wo: try reader.require(p + "attn.c_proj.weight").transposed2D(),
                bq: qkvBias.slice(rows: 0..<d), bk: qkvBias.slice(rows: d..<(2 * d)),
                bv: qkvBias.slice(rows: (2 * d)..<(3 * d)),
                bo: try reader.require(p + "attn.c_proj.bias"),
                mlpNorm: try reader.require(p + "ln_2.weight"), mlpNormBias: try reader.require(p + "ln_2.bias"),
                wGate: nil,
                wUp: try reader.require(p + "mlp.c_fc.weight").transposed2D(),
                bUp: try reader.require(p + "mlp.c_fc.bias"),
                wDown: try reader.require(p + "mlp.c_proj.weight").transposed2D(),
                bDown: try reader.require(p + "mlp.c_proj.bias"))
        }
        let embed = try reader.require(root + "wte.weight")
        return TransformerWeights(
            tokenEmbedding: embed, positionEmbedding: try reader.require(root + "wpe.weight"),
            layers: layers,
            finalNorm: try reader.require(root + "ln_f.weight"), finalNormBias: try reader.require(root + "ln_f.bias"),
            unembed: try reader.optional("lm_head.weight") ?? embed)
    }
}
