import Linalg

/// Where a hook is being called: which point, which sequence of the batch, and which
/// absolute token positions the rows of its activation are.
///
/// Position semantics: row `i` of the activation is token `positions.lowerBound + i` of the
/// sequence. Without a KV cache `positions` is `0..<length`; in cached generation each step
/// computes only the new token(s), so a step's hook sees `past..<past + new`. A hook that
/// selects by absolute position therefore acts the same whether the cache is used or not.
public struct HookContext: Sendable {
    public let point: HookPoint
    /// Index of the sequence within the batch.
    public let sequence: Int
    /// Absolute positions of the activation's rows (for `pattern`: of its query rows).
    public let positions: Range<Int>
}

/// One hook: a function the forward pass calls with an activation.
///
/// `observe` hooks read a copy (capture); `modify` hooks get the activation `inout` and
/// whatever they leave in it flows on through the pass (patching, steering, ablation).
/// This is TransformerLens's contract (return `None` or a replacement) without hooks living
/// on the model: a ``HookSet`` is passed to each call.
public enum Hook {
    case observe((Tensor, HookContext) -> Void)
    case modify((inout Tensor, HookContext) throws -> Void)
}

/// Which absolute token positions a hook acts on.
public enum PositionSelection: Sendable, Equatable {
    /// Every position.
    case all
    /// Exactly these positions.
    case positions(Set<Int>)
    /// Positions `>= start` (e.g. generated tokens only: start = prompt length).
    case from(Int)
    /// Positions `< end` (e.g. the prompt only: end = prompt length).
    case before(Int)

    /// Whether absolute position `p` is selected.
    public func contains(_ p: Int) -> Bool {
        switch self {
        case .all: return true
        case .positions(let s): return s.contains(p)
        case .from(let start): return p >= start
        case .before(let end): return p < end
        }
    }
}

/// Which attention heads a per-head hook acts on (`q`, `k`, `v`, `z`, `pattern`).
public enum HeadSelection: Sendable, Equatable {
    case all
    case heads(Set<Int>)

    public func contains(_ h: Int) -> Bool {
        switch self {
        case .all: return true
        case .heads(let s): return s.contains(h)
        }
    }
}
