/// What a family may add to the forward pass beyond ``TransformerConfig``'s kinds, in one
/// place. The pass reads these switches and nothing else; the defaults change nothing, so a
/// model that sets none runs bit for bit as before.
///
/// Implemented:
/// - ``embeddingScale``: token embeddings times a constant (Gemma: `√dModel`).
/// - ``finalLogitSoftcap``: logits become `cap * tanh(logits / cap)` (Gemma 2).
///
/// Not implemented yet (no switch exists, so nothing is silently ignored). A family adds
/// each by a field here, read in `Pass` (`ForwardPass.swift`) where noted, with a tiny-model
/// test against a hand computation:
/// - Sandwich norms (Gemma 2/3 post-attention and post-MLP norms): optional
///   `postAttnNorm`/`postMLPNorm` in `LayerWeights` (validated in `TransformerWeights`),
///   applied to `o` in `Pass.finishBlock` and `Pass.mlp` before the residual add, so
///   `hook_attn_out`/`hook_mlp_out` see the normed output.
/// - GeGLU (Gemma): a `TransformerConfig.MLPKind` case beside `swiGLU` with a GELU-tanh
///   gate kernel in `Linalg.Kernels` (and its `Reference` twin), switched on in `Pass.mlp`.
/// - Partial rotary (Phi-3 small, GPT-NeoX style): a rotated width below `headDim`, made
///   the value of `TransformerConfig.ropeDim`, with `Kernels.rope` rotating only that width.
/// - Attention logit soft-capping and query pre-attention scale (Gemma 2): applied to the
///   scores in `Pass.attention` (`ForwardPass+Attention.swift`) before the softmax.
/// - QK norm (Qwen3, Gemma 3): per-head RMSNorm weights in `LayerWeights` applied to `q`/`k`
///   in `Pass.attend` before RoPE.
/// - Sliding-window attention (Mistral v0.1, Gemma 2/3 local layers): a window per layer,
///   masking keys older than it in `Pass.attention`'s score loops and sgemm path.
public struct PassOptions: Sendable, Equatable, Codable {
    /// Multiplies every token embedding row; `hook_embed` sees the scaled rows. Learned
    /// position embeddings are added unscaled. 1: no scaling.
    public var embeddingScale: Float
    /// When set, every logit `x` becomes `cap * tanh(x / cap)` after the unembedding;
    /// must be positive. nil: raw logits.
    public var finalLogitSoftcap: Float?

    /// Options that change nothing unless given.
    public init(embeddingScale: Float = 1, finalLogitSoftcap: Float? = nil) {
        self.embeddingScale = embeddingScale
        self.finalLogitSoftcap = finalLogitSoftcap
    }

    /// Whether every switch is at its default (the pass as for Llama and GPT-2).
    public var isDefault: Bool { self == PassOptions() }
}
