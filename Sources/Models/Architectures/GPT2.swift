import Formats
import Linalg

// Reference: Hugging Face transformers `modeling_gpt2.py` and nanoGPT's model.py
// (LayerNorm, learned positions, fused qkv `c_attn`, tanh GELU, tied unembedding).
// GPT-2 checkpoints store linear weights as Conv1D `[in, out]`; they are transposed here.

/// GPT-2 models from a Hugging Face checkpoint.
enum GPT2: HuggingFaceFamily {
    static func config(hf j: HFConfig) throws -> TransformerConfig {
        let d = try j.int("n_embd"), heads = try j.int("n_head")
        if let act = try j.string("activation_function"), !["gelu_new", "gelu_pytorch_tanh"].contains(act) {
            throw ModelError.badMetadata(file: j.file, key: "activation_function",
                                         reason: "is '\(act)'; supported: gelu_new, gelu_pytorch_tanh")
        }
        return TransformerConfig(
            architecture: "gpt2", name: try j.string("_name_or_path") ?? "gpt2",
            vocabSize: try j.int("vocab_size"), dModel: d, nLayers: try j.int("n_layer"),
            nHeads: heads, nKVHeads: heads, headDim: heads > 0 ? d / heads : 0,
            dMLP: try j.optionalInt("n_inner") ?? 4 * d,
            contextLength: try j.int("n_positions"),
            normKind: .layerNorm, normEps: Float(try j.double("layer_norm_epsilon") ?? 1e-5),
            mlpKind: .geluTanh, positionKind: .learned, ropeTheta: 0, ropeScaling: nil,
            tiedEmbeddings: true, attentionBias: true)
    }

    static func weights(hf reader: WeightReader, config c: TransformerConfig) throws -> TransformerWeights {
        // Checkpoints saved from GPT2LMHeadModel prefix names with "transformer."; GPT2Model does not.
        let root = reader.has("transformer.wte.weight") ? "transformer." : ""
        let (d, f) = (c.dModel, c.dMLP)
        try reader.requireLayers(c.nLayers) { "\(root)h.\($0).attn.c_attn.weight" }
        // Conv1D weights are stored [in, out]; the shapes below are as the file holds them.
        let layers = try (0..<c.nLayers).map { l -> LayerWeights in
            let p = "\(root)h.\(l)."
            let qkv = try reader.require(p + "attn.c_attn.weight", shape: [d, 3 * d]).transposed2D()   // [3d, d]
            let qkvBias = try reader.require(p + "attn.c_attn.bias", shape: [3 * d])
            return LayerWeights(
                attnNorm: try reader.require(p + "ln_1.weight", shape: [d]), attnNormBias: try reader.require(p + "ln_1.bias", shape: [d]),
                wq: .float32(qkv.slice(rows: 0..<d)), wk: .float32(qkv.slice(rows: d..<(2 * d))),
                wv: .float32(qkv.slice(rows: (2 * d)..<(3 * d))),
                wo: .float32(try reader.require(p + "attn.c_proj.weight", shape: [d, d]).transposed2D()),
                bq: qkvBias.slice(rows: 0..<d), bk: qkvBias.slice(rows: d..<(2 * d)),
                bv: qkvBias.slice(rows: (2 * d)..<(3 * d)),
                bo: try reader.require(p + "attn.c_proj.bias", shape: [d]),
                mlpNorm: try reader.require(p + "ln_2.weight", shape: [d]), mlpNormBias: try reader.require(p + "ln_2.bias", shape: [d]),
                wGate: nil,
                wUp: .float32(try reader.require(p + "mlp.c_fc.weight", shape: [d, f]).transposed2D()),
                bUp: try reader.require(p + "mlp.c_fc.bias", shape: [f]),
                wDown: .float32(try reader.require(p + "mlp.c_proj.weight", shape: [f, d]).transposed2D()),
                bDown: try reader.require(p + "mlp.c_proj.bias", shape: [d]))
        }
        let embed = try reader.matrix(root + "wte.weight", shape: [c.vocabSize, d])
        return TransformerWeights(
            tokenEmbedding: embed, positionEmbedding: try reader.require(root + "wpe.weight", shape: [c.contextLength, d]),
            layers: layers,
            finalNorm: try reader.require(root + "ln_f.weight", shape: [d]), finalNormBias: try reader.require(root + "ln_f.bias", shape: [d]),
            unembed: try reader.optionalMatrix("lm_head.weight", shape: [c.vocabSize, d]) ?? embed)
    }
}
