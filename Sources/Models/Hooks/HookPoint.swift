/// A named point in the forward pass whose activation hooks can read, replace or add to.
///
/// Names follow TransformerLens (`blocks.3.hook_resid_pre`), so people and SAELens configs
/// already know them. Shapes are per sequence; `pos` counts the positions the pass computes
/// (all of them, or only the new ones when a KV cache holds the earlier ones).
public enum HookPoint: Hashable, Sendable, Comparable {
    /// Token embeddings, `[pos, dModel]`.
    case embed
    /// Learned position embeddings (GPT-2), `[pos, dModel]`.
    case posEmbed
    /// Residual stream entering block L, `[pos, dModel]`.
    case residPre(Int)
    /// The attention's input normalized, before the norm's weight and bias (TransformerLens
    /// `ln1.hook_normalized`: RMSNorm `x / rms(x)`, LayerNorm `(x - mean) / std`), `[pos, dModel]`.
    /// A replaced value is what the weight multiplies and q/k/v read.
    case ln1Normalized(Int)
    /// Queries before RoPE (the projection, plus its bias, per head), `[pos, nHeads, headDim]`.
    case q(Int)
    /// Keys before RoPE, one per KV head (grouped, as TransformerLens shapes them), `[pos, nKVHeads, headDim]`.
    case k(Int)
    /// Values, one per KV head, `[pos, nKVHeads, headDim]`.
    case v(Int)
    /// Queries after RoPE (rotary models only), `[pos, nHeads, headDim]`.
    case rotQ(Int)
    /// Keys after RoPE (rotary models only), one per KV head, `[pos, nKVHeads, headDim]`.
    case rotK(Int)
    /// Attention probabilities, `[nHeads, pos, keyPos]` (keys include cached positions).
    case pattern(Int)
    /// Attention-weighted values per head, before the output projection, `[pos, nHeads, headDim]`.
    case z(Int)
    /// Attention output added to the residual stream, `[pos, dModel]`.
    case attnOut(Int)
    /// Residual stream between attention and MLP, `[pos, dModel]`.
    case residMid(Int)
    /// The MLP's input normalized, before the norm's weight and bias (TransformerLens
    /// `ln2.hook_normalized`), `[pos, dModel]`. A replaced value is what the weight multiplies.
    case ln2Normalized(Int)
    /// The MLP's input: `ln2` output after its weight (and bias), what the MLP's first
    /// projections read, `[pos, dModel]` (circuit-tracer's `mlp.hook_in`, a transcoder's input).
    case mlpIn(Int)
    /// MLP pre-activation (the gate projection in gated MLPs), `[pos, dMLP]`.
    case mlpPre(Int)
    /// MLP hidden activation after the nonlinearity (times the up projection), `[pos, dMLP]`.
    case mlpPost(Int)
    /// MLP output added to the residual stream, `[pos, dModel]`.
    case mlpOut(Int)
    /// Residual stream leaving block L, `[pos, dModel]`.
    case residPost(Int)
    /// Final normalization output that feeds the unembedding, `[pos, dModel]`.
    case finalNorm

    /// The canonical TransformerLens name, e.g. `blocks.3.attn.hook_q`.
    public var name: String {
        switch self {
        case .embed: return "hook_embed"
        case .posEmbed: return "hook_pos_embed"
        case .finalNorm: return "ln_final.hook_normalized"
        case .residPre(let l): return "blocks.\(l).hook_resid_pre"
        case .ln1Normalized(let l): return "blocks.\(l).ln1.hook_normalized"
        case .ln2Normalized(let l): return "blocks.\(l).ln2.hook_normalized"
        case .mlpIn(let l): return "blocks.\(l).mlp.hook_in"
        case .q(let l): return "blocks.\(l).attn.hook_q"
        case .k(let l): return "blocks.\(l).attn.hook_k"
        case .v(let l): return "blocks.\(l).attn.hook_v"
        case .rotQ(let l): return "blocks.\(l).attn.hook_rot_q"
        case .rotK(let l): return "blocks.\(l).attn.hook_rot_k"
        case .pattern(let l): return "blocks.\(l).attn.hook_pattern"
        case .z(let l): return "blocks.\(l).attn.hook_z"
        case .attnOut(let l): return "blocks.\(l).hook_attn_out"
        case .residMid(let l): return "blocks.\(l).hook_resid_mid"
        case .mlpPre(let l): return "blocks.\(l).mlp.hook_pre"
        case .mlpPost(let l): return "blocks.\(l).mlp.hook_post"
        case .mlpOut(let l): return "blocks.\(l).hook_mlp_out"
        case .residPost(let l): return "blocks.\(l).hook_resid_post"
        }
    }

    /// The block this point belongs to, or nil for `embed`, `posEmbed` and `finalNorm`.
    public var layer: Int? {
        switch self {
        case .embed, .posEmbed, .finalNorm: return nil
        case .residPre(let l), .ln1Normalized(let l), .ln2Normalized(let l), .mlpIn(let l), .q(let l), .k(let l), .v(let l),
             .rotQ(let l), .rotK(let l), .pattern(let l), .z(let l),
             .attnOut(let l), .residMid(let l), .mlpPre(let l), .mlpPost(let l), .mlpOut(let l),
             .residPost(let l):
            return l
        }
    }

    /// Whether the activation is split into attention heads (`q`, `k`, `v`, `rot_q`, `rot_k`, `z`, `pattern`).
    public var isPerHead: Bool {
        switch self {
        case .q, .k, .v, .rotQ, .rotK, .z, .pattern: return true
        default: return false
        }
    }

    /// Order of points within one block, in the order the forward pass reaches them.
    var orderInBlock: Int {
        switch self {
        case .embed: return -2
        case .posEmbed: return -1
        case .residPre: return 0
        case .ln1Normalized: return 1
        case .q: return 2
        case .k: return 3
        case .v: return 4
        case .rotQ: return 5
        case .rotK: return 6
        case .pattern: return 7
        case .z: return 8
        case .attnOut: return 9
        case .residMid: return 10
        case .ln2Normalized: return 11
        case .mlpIn: return 12
        case .mlpPre: return 13
        case .mlpPost: return 14
        case .mlpOut: return 15
        case .residPost: return 16
        case .finalNorm: return 17
        }
    }

    /// Points compare in the order the forward pass reaches them.
    public static func < (a: HookPoint, b: HookPoint) -> Bool {
        let la = a == .finalNorm ? Int.max : (a.layer ?? -1)
        let lb = b == .finalNorm ? Int.max : (b.layer ?? -1)
        return la != lb ? la < lb : a.orderInBlock < b.orderInBlock
    }

    /// Every block-level point kind, as a function of the layer.
    static let blockKinds: [@Sendable (Int) -> HookPoint] = [
        HookPoint.residPre, HookPoint.ln1Normalized, HookPoint.q, HookPoint.k, HookPoint.v, HookPoint.rotQ, HookPoint.rotK,
        HookPoint.pattern, HookPoint.z,
        HookPoint.attnOut, HookPoint.residMid, HookPoint.ln2Normalized, HookPoint.mlpIn, HookPoint.mlpPre, HookPoint.mlpPost,
        HookPoint.mlpOut, HookPoint.residPost,
    ]

    /// Parses a canonical name. Returns nil for anything else (see ``HookPoint/parse(_:layers:)``
    /// for an error that suggests close names).
    public init?(name: String) {
        switch name {
        case "hook_embed": self = .embed; return
        case "hook_pos_embed": self = .posEmbed; return
        case "ln_final.hook_normalized": self = .finalNorm; return
        default: break
        }
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "blocks", let l = Int(parts[1]), l >= 0,
              String(l) == parts[1] else { return nil }
        guard let make = HookPoint.blockKinds.first(where: { $0(l).name == name }) else { return nil }
        self = make(l)
    }
}

extension HookPoint: CustomStringConvertible {
    public var description: String { name }
}
