import Formats
import Linalg
import Models

/// A tiny Llama-shaped model written as GGUF the way llama.cpp's converter writes it:
/// `ne` reversed, `{arch}.*` metadata, a toy vocabulary, and (when `permuteQK`) q/k rows
/// permuted for its RoPE.
public enum TinyGGUF {
    /// llama.cpp's converter permutation: HF row `t * hd/2 + j` of a head becomes row `2j + t`.
    public static func permute(_ w: Tensor, heads: Int) -> Tensor {
        let rows = w.shape[0], cols = w.shape[1], hd = rows / heads, half = hd / 2
        var out = [Float](repeating: 0, count: w.count)
        for h in 0..<heads { for j in 0..<half { for t in 0..<2 { for i in 0..<cols {
            out[(h * hd + 2 * j + t) * cols + i] = w.scalars[(h * hd + t * half + j) * cols + i]
        } } } }
        return Tensor(shape: w.shape, scalars: out)
    }

    /// The file's bytes. `drop` leaves out one tensor; `reshape` writes one as `[count/2, 2]`.
    /// `overriding` replaces (or adds) metadata values by key, to write files whose metadata lies.
    /// `weightType` (one of ``TestQuantizer/types``) writes the matrices whose rows are a
    /// multiple of 32 in that format (the others, and norms, stay F32).
    public static func bytes(_ model: Transformer, architecture: String = "llama", permuteQK: Bool = true,
                             drop: String? = nil, reshape: String? = nil,
                             overriding: [String: GGUFValue] = [:], weightType: GGMLType = .f32) -> [UInt8] {
        let c = model.config, w = model.weights
        var tensors: [GGUFWriter.TensorEntry] = []
        func add(_ name: String, _ t: Tensor) {
            if name == drop { return }
            var t = t
            if name == reshape { t = Tensor(shape: [t.count / 2, 2], scalars: t.scalars) }
            if weightType != .f32, t.rank == 2, t.shape[1] % 32 == 0 {
                tensors.append(GGUFWriter.TensorEntry(name: name, dimensions: t.shape.reversed(), type: weightType,
                                                      data: TestQuantizer.bytes(t.scalars, type: weightType)))
            } else {
                tensors.append(.f32(name, shape: t.shape, t.scalars))
            }
        }
        func addMatrix(_ name: String, _ m: WeightMatrix) { add(name, m.dense()) }
        addMatrix("token_embd.weight", w.tokenEmbedding)
        add("output_norm.weight", w.finalNorm)
        for (l, lw) in w.layers.enumerated() {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", lw.attnNorm)
            add(p + "attn_q.weight", permuteQK ? permute(lw.wq.dense(), heads: c.nHeads) : lw.wq.dense())
            add(p + "attn_k.weight", permuteQK ? permute(lw.wk.dense(), heads: c.nKVHeads) : lw.wk.dense())
            addMatrix(p + "attn_v.weight", lw.wv)
            addMatrix(p + "attn_output.weight", lw.wo)
            add(p + "ffn_norm.weight", lw.mlpNorm)
            addMatrix(p + "ffn_gate.weight", lw.wGate!)
            addMatrix(p + "ffn_up.weight", lw.wUp)
            addMatrix(p + "ffn_down.weight", lw.wDown)
        }
        let a = architecture
        let tokens = (0..<c.vocabSize).map { i in String(UnicodeScalar(UInt8(65 + i % 26))) + String(i) }
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string(a)), ("general.name", .string("tiny")),
            ("\(a).block_count", .uint32(UInt32(c.nLayers))), ("\(a).context_length", .uint32(UInt32(c.contextLength))),
            ("\(a).embedding_length", .uint32(UInt32(c.dModel))), ("\(a).feed_forward_length", .uint32(UInt32(c.dMLP))),
            ("\(a).attention.head_count", .uint32(UInt32(c.nHeads))), ("\(a).attention.head_count_kv", .uint32(UInt32(c.nKVHeads))),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(c.normEps)), ("\(a).rope.freq_base", .float32(c.ropeTheta)),
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt2")),
            ("tokenizer.ggml.tokens", .array(GGUFArray(storage: .string(tokens)))),
            ("tokenizer.ggml.token_type", .array(GGUFArray(storage: .int32(tokens.map { _ in 1 })))),
            ("tokenizer.ggml.merges", .array([])),
        ]
        var edited = metadata.map { (key, value) in (key, overriding[key] ?? value) }
        edited += overriding.filter { key, _ in !metadata.contains { $0.0 == key } }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return GGUFWriter(metadata: edited, tensors: tensors).build().bytes
    }
}
