import Formats
import Linalg

// Reference: Hugging Face transformers `modeling_llama.py` / `modeling_qwen2.py`
// (RMSNorm, rotate_half RoPE, grouped-query attention, SwiGLU MLP), and llama.cpp's
// GGUF tensor names and its converter's Q/K permutation.

/// Llama-family models: Llama 1–3, SmolLM, Mistral-style dense models, Qwen2 (q/k/v biases).
enum LlamaFamily: GGUFFamily, HuggingFaceFamily {
    /// Config from GGUF metadata under the `{arch}.` prefix.
    static func config(gguf: GGUFFile, architecture: GGUFArchitecture) throws -> TransformerConfig {
        let m = GGUFMetadataReader(gguf), arch = architecture.name
        let dModel = try m.int("\(arch).embedding_length")
        let nHeads = try m.int("\(arch).attention.head_count")
        let headDim = try m.optionalInt("\(arch).attention.key_length") ?? dModel / nHeads  // m.int: nHeads >= 1
        let vocab = try gguf.tensorInfo("token_embd.weight").map { info in
            guard info.shape.count == 2 else {
                throw ModelError.tensorShape(file: gguf.path, tensor: "token_embd.weight", expected: [-1, dModel], found: info.shape)
            }
            return info.shape[0]
        }
            ?? m.array("tokenizer.ggml.tokens").count
        var scaling: RoPEScaling? = nil
        if let type = try m.optionalString("\(arch).rope.scaling.type"), type != "none" {
            guard type == "linear" else {
                throw ModelError.badMetadata(file: gguf.path, key: "\(arch).rope.scaling.type",
                                             reason: "is '\(type)'; supported: none, linear (llama3 comes as rope_freqs.weight)")
            }
            scaling = .linear(factor: Float(try m.double("\(arch).rope.scaling.factor")))
        }
        if let freqs = try gguf.tensorInfo("rope_freqs.weight").map({ _ in try gguf.tensor("rope_freqs.weight") }) {
            scaling = .explicitFactors(freqs.scalars)
        }
        return TransformerConfig(
            architecture: arch,
            name: try m.optionalString("general.name") ?? arch,
            vocabSize: vocab,
            dModel: dModel,
            nLayers: try m.int("\(arch).block_count"),
            nHeads: nHeads,
            nKVHeads: try m.optionalInt("\(arch).attention.head_count_kv") ?? nHeads,
            headDim: headDim,
            dMLP: try m.int("\(arch).feed_forward_length"),
            contextLength: try m.int("\(arch).context_length"),
            normKind: .rmsNorm,
            normEps: Float(try m.double("\(arch).attention.layer_norm_rms_epsilon")),
            mlpKind: .swiGLU,
            positionKind: .rotary,
            ropeTheta: Float(try m.optionalDouble("\(arch).rope.freq_base") ?? 10_000),
            ropeScaling: scaling,
            tiedEmbeddings: gguf.tensorInfo("output.weight") == nil,
            attentionBias: gguf.tensorInfo("blk.0.attn_q.bias") != nil)
    }

    /// Weights from GGUF tensor names. llama.cpp's converter permutes the rows of the q/k
    /// projections of the architectures the registry marks `permutedQK` (llama, mistral) so
    /// that RoPE rotates adjacent pairs; this undoes it, so the forward pass (and
    /// `hook_rot_q`/`hook_rot_k`) use Hugging Face's `rotate_half` layout for every file.
    static func weights(gguf reader: WeightReader, config c: TransformerConfig,
                        architecture: GGUFArchitecture) throws -> TransformerWeights {
        let permuted = architecture.permutedQK
        let (d, qw, kvw, f) = (c.dModel, c.nHeads * c.headDim, c.nKVHeads * c.headDim, c.dMLP)
        try reader.requireLayers(c.nLayers) { "blk.\($0).attn_q.weight" }
        let layers = try (0..<c.nLayers).map { l -> LayerWeights in
            let p = "blk.\(l)."
            var wq = try reader.matrix(p + "attn_q.weight", shape: [qw, d])
            var wk = try reader.matrix(p + "attn_k.weight", shape: [kvw, d])
            var bq = try reader.optional(p + "attn_q.bias", shape: [qw])
            var bk = try reader.optional(p + "attn_k.bias", shape: [kvw])
            if permuted {
                wq = unpermuteRoPERows(wq, heads: c.nHeads)
                wk = unpermuteRoPERows(wk, heads: c.nKVHeads)
                bq = bq.map { unpermuteRoPERows($0, heads: c.nHeads) }
                bk = bk.map { unpermuteRoPERows($0, heads: c.nKVHeads) }
            }
            return LayerWeights(
                attnNorm: try reader.require(p + "attn_norm.weight", shape: [d]), attnNormBias: nil,
                wq: wq, wk: wk, wv: try reader.matrix(p + "attn_v.weight", shape: [kvw, d]),
                wo: try reader.matrix(p + "attn_output.weight", shape: [d, qw]),
                bq: bq, bk: bk, bv: try reader.optional(p + "attn_v.bias", shape: [kvw]),
                bo: try reader.optional(p + "attn_output.bias", shape: [d]),
                mlpNorm: try reader.require(p + "ffn_norm.weight", shape: [d]), mlpNormBias: nil,
                wGate: try reader.matrix(p + "ffn_gate.weight", shape: [f, d]),
                wUp: try reader.matrix(p + "ffn_up.weight", shape: [f, d]), bUp: nil,
                wDown: try reader.matrix(p + "ffn_down.weight", shape: [d, f]), bDown: nil)
        }
        let embed = try reader.matrix("token_embd.weight", shape: [c.vocabSize, d])
        _ = reader.has("rope_freqs.weight") ? try reader.require("rope_freqs.weight") : nil
        return TransformerWeights(
            tokenEmbedding: embed, positionEmbedding: nil, layers: layers,
            finalNorm: try reader.require("output_norm.weight", shape: [d]), finalNormBias: nil,
            unembed: try reader.optionalMatrix("output.weight", shape: [c.vocabSize, d]) ?? embed)
    }

    /// Config from a Hugging Face `config.json` (`model_type` llama, qwen2, mistral, ...).
    static func config(hf j: HFConfig) throws -> TransformerConfig {
        let file = j.file
        let dModel = try j.int("hidden_size")
        let nHeads = try j.int("num_attention_heads")
        let rope = j.ropeParameters
        var scaling: RoPEScaling? = nil
        if let rope, let type = rope["rope_type"]?.string ?? rope["type"]?.string, type != "default" {
            func num(_ k: String) throws -> Float {
                guard let v = rope[k]?.double else {
                    throw ModelError.badMetadata(file: file, key: "rope_scaling.\(k)", reason: "is missing")
                }
                return Float(v)
            }
            switch type {
            case "linear": scaling = .linear(factor: try num("factor"))
            case "llama3":
                let original = try num("original_max_position_embeddings")
                guard original >= 1, original <= Float(1 << 30), original == original.rounded() else {
                    throw ModelError.badMetadata(file: file, key: "rope_scaling.original_max_position_embeddings",
                                                 reason: "is \(original), expected a whole number of positions between 1 and 2^30")
                }
                scaling = .llama3(factor: try num("factor"), lowFreqFactor: try num("low_freq_factor"),
                                  highFreqFactor: try num("high_freq_factor"), originalContext: Int(original))
            default:
                throw ModelError.badMetadata(file: file, key: "rope_scaling.rope_type",
                                             reason: "is '\(type)'; supported: default, linear, llama3")
            }
        }
        let modelType = try j.string("model_type") ?? "llama"
        return TransformerConfig(
            architecture: modelType,
            name: try j.string("_name_or_path") ?? modelType,
            vocabSize: try j.int("vocab_size"),
            dModel: dModel,
            nLayers: try j.int("num_hidden_layers"),
            nHeads: nHeads,
            nKVHeads: try j.optionalInt("num_key_value_heads") ?? nHeads,
            headDim: try j.optionalInt("head_dim") ?? (nHeads > 0 ? dModel / nHeads : 0),
            dMLP: try j.int("intermediate_size"),
            contextLength: try j.int("max_position_embeddings"),
            normKind: .rmsNorm,
            normEps: Float(try j.double("rms_norm_eps") ?? 1e-6),
            mlpKind: .swiGLU,
            positionKind: .rotary,
            ropeTheta: Float(try ropeTheta(rope, j) ?? 10_000),
            ropeScaling: scaling,
            tiedEmbeddings: try j.bool("tie_word_embeddings") ?? false,
            attentionBias: try modelType == "qwen2" || (j.bool("attention_bias") ?? false))
    }

    /// `rope_theta` from the RoPE parameters or the top level (a non-number is an error).
    static func ropeTheta(_ rope: [String: JSONValue]?, _ j: HFConfig) throws -> Double? {
        if let v = rope?["rope_theta"], v != .null {
            guard let d = v.double else { throw ModelError.badMetadata(file: j.file, key: "rope_parameters.rope_theta", reason: "is \(jsonText(v)), expected a number") }
            return d
        }
        return try j.double("rope_theta")
    }

    /// Weights from Hugging Face names (`model.layers.L.self_attn.q_proj.weight`, ...).
    static func weights(hf reader: WeightReader, config c: TransformerConfig) throws -> TransformerWeights {
        let (d, qw, kvw, f) = (c.dModel, c.nHeads * c.headDim, c.nKVHeads * c.headDim, c.dMLP)
        try reader.requireLayers(c.nLayers) { "model.layers.\($0).self_attn.q_proj.weight" }
        let layers = try (0..<c.nLayers).map { l -> LayerWeights in
            let p = "model.layers.\(l)."
            return LayerWeights(
                attnNorm: try reader.require(p + "input_layernorm.weight", shape: [d]), attnNormBias: nil,
                wq: try reader.matrix(p + "self_attn.q_proj.weight", shape: [qw, d]),
                wk: try reader.matrix(p + "self_attn.k_proj.weight", shape: [kvw, d]),
                wv: try reader.matrix(p + "self_attn.v_proj.weight", shape: [kvw, d]),
                wo: try reader.matrix(p + "self_attn.o_proj.weight", shape: [d, qw]),
                bq: try reader.optional(p + "self_attn.q_proj.bias", shape: [qw]),
                bk: try reader.optional(p + "self_attn.k_proj.bias", shape: [kvw]),
                bv: try reader.optional(p + "self_attn.v_proj.bias", shape: [kvw]),
                bo: try reader.optional(p + "self_attn.o_proj.bias", shape: [d]),
                mlpNorm: try reader.require(p + "post_attention_layernorm.weight", shape: [d]), mlpNormBias: nil,
                wGate: try reader.matrix(p + "mlp.gate_proj.weight", shape: [f, d]),
                wUp: try reader.matrix(p + "mlp.up_proj.weight", shape: [f, d]), bUp: nil,
                wDown: try reader.matrix(p + "mlp.down_proj.weight", shape: [d, f]), bDown: nil)
        }
        let embed = try reader.matrix("model.embed_tokens.weight", shape: [c.vocabSize, d])
        let head = c.tiedEmbeddings ? nil : try reader.matrix("lm_head.weight", shape: [c.vocabSize, d])
        return TransformerWeights(
            tokenEmbedding: embed, positionEmbedding: nil, layers: layers,
            finalNorm: try reader.require("model.norm.weight", shape: [d]), finalNormBias: nil,
            unembed: head ?? embed)
    }

    /// ``unpermuteRoPERows(_:heads:)-(Tensor,_)`` for a matrix in either form: a quantized
    /// matrix moves whole rows of blocks (rows are independent), so it stays quantized.
    static func unpermuteRoPERows(_ w: WeightMatrix, heads: Int) -> WeightMatrix {
        switch w {
        case .float32(let t): return .float32(unpermuteRoPERows(t, heads: heads))
        case .quantized(let q):
            let hd = q.rows / heads, half = hd / 2
            var order = Array(0..<q.rows)
            for h in 0..<heads { for j in 0..<half { for t in 0..<2 { order[h * hd + t * half + j] = h * hd + 2 * j + t } } }
            return .quantized(q.permutingRows(order))
        }
    }

    /// Inverts llama.cpp's `permute`: within each head, GGUF row `2j + t` holds Hugging Face
    /// row `t * headDim/2 + j`. Works on weights `[heads * headDim, in]` and biases.
    static func unpermuteRoPERows(_ w: Tensor, heads: Int) -> Tensor {
        let rows = w.shape[0], cols = w.rank == 2 ? w.shape[1] : 1
        let hd = rows / heads, half = hd / 2
        var out = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for h in 0..<heads {
                    for j in 0..<half {
                        for t in 0..<2 {
                            let from = (h * hd + 2 * j + t) * cols
                            let to = (h * hd + t * half + j) * cols
                            for i in 0..<cols { dst[to + i] = src[from + i] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: w.shape, scalars: out)
    }
}
