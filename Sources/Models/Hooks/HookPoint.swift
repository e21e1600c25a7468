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
        case .residPre(let l), .q(let l), .k(let l), .v(let l), .rotQ(let l), .rotK(let l), .pattern(let l), .z(let l),
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
        case .q: return 1
        case .k: return 2
        case .v: return 3
        case .rotQ: return 4
        case .rotK: return 5
        case .pattern: return 6
        case .z: return 7
        case .attnOut: return 8
        case .residMid: return 9
        case .mlpPre: return 10
        case .mlpPost: return 11
        case .mlpOut: return 12
        case .residPost: return 13
        case .finalNorm: return 14
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
        HookPoint.residPre, HookPoint.q, HookPoint.k, HookPoint.v, HookPoint.rotQ, HookPoint.rotK,
        HookPoint.pattern, HookPoint.z,
        HookPoint.attnOut, HookPoint.residMid, HookPoint.mlpPre, HookPoint.mlpPost,
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
