/// Where each node sits in the adjacency matrix, in circuit-tracer's order: active features
/// (by layer, position, latent), error nodes (layer-major, then position), one token node per
/// position, then the logit nodes (most probable first).
public struct GraphLayout: Sendable, Equatable {
    public let features: Int
    public let layers: Int
    public let positions: Int
    public let logits: Int

    public var errorOffset: Int { features }
    public var tokenOffset: Int { features + layers * positions }
    /// Columns that can be sources (everything but the logits).
    public var sources: Int { tokenOffset + positions }
    public var logitOffset: Int { sources }
    public var nodes: Int { sources + logits }

    public func errorNode(layer: Int, position: Int) -> Int { errorOffset + layer * positions + position }
    public func tokenNode(position: Int) -> Int { tokenOffset + position }
    public func logitNode(_ i: Int) -> Int { logitOffset + i }

    /// What node `i` is.
    public func kind(of i: Int) -> NodeKind {
        if i < features { return .feature(i) }
        if i < tokenOffset { let (l, p) = (i - errorOffset).quotientAndRemainder(dividingBy: positions); return .error(layer: l, position: p) }
        if i < logitOffset { return .token(position: i - tokenOffset) }
        return .logit(i - logitOffset)
    }

    public enum NodeKind: Sendable, Equatable {
        /// Index into the graph's feature list.
        case feature(Int)
        case error(layer: Int, position: Int)
        case token(position: Int)
        /// Index into the graph's logit targets.
        case logit(Int)
    }
}
