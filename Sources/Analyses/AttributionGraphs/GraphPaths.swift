/// The strongest paths from input tokens to one logit in a pruned graph: the path whose
/// product of normalized edge weights (`|A[t, s]| / Σ_s |A[t, s]|`, the share of the target's
/// input the source gives) is largest, found by dynamic programming from the logit down
/// (the graph's edges only go up in layer, so features and errors by layer, top first, then tokens).
public struct GraphPath: Sendable, Equatable {
    /// Node indices from the token to the logit.
    public let nodes: [Int]
    /// The product of the normalized edge weights along it.
    public let strength: Float

    /// One strongest path per token position that reaches logit `logit` through kept edges, strongest first.
    public static func strongest(in graph: AttributionGraph, pruning: GraphPruning, logit: Int = 0) -> [GraphPath] {
        let layout = graph.layout, nodes = layout.nodes
        let normalized = GraphInfluence.normalized(graph.adjacency, nodes: nodes)
        var best = [Float](repeating: 0, count: nodes), next = [Int](repeating: -1, count: nodes)
        best[layout.logitNode(logit)] = 1
        var order: [Int] = []
        for l in stride(from: layout.layers - 1, through: 0, by: -1) {
            order += graph.features.indices.filter { graph.features[$0].layer == l }
            order += (0..<layout.positions).map { layout.errorNode(layer: l, position: $0) }
        }
        order += (0..<layout.positions).map { layout.tokenNode(position: $0) }
        for s in order where pruning.nodeMask[s] {
            for t in 0..<nodes where pruning.edgeMask[t * nodes + s] && best[t] > 0 {
                let v = normalized[t * nodes + s] * best[t]
                if v > best[s] { best[s] = v; next[s] = t }
            }
        }
        var paths: [GraphPath] = []
        for p in 0..<layout.positions {
            let start = layout.tokenNode(position: p)
            guard best[start] > 0 else { continue }
            var path = [start]
            while let last = path.last, next[last] >= 0, path.count <= nodes { path.append(next[last]) }
            paths.append(GraphPath(nodes: path, strength: best[start]))
        }
        return paths.sorted { $0.strength > $1.strength }
    }
}

extension GraphPath {
    /// The chain of features that feeds logit `logit` most directly, walked back from it
    /// through the whole adjacency: at each node the source feature with the largest positive
    /// edge into it, until a node has no feature input; then that node's largest positive
    /// input of any kind (a token or an error node) starts the chain. Edges only go up in
    /// layer, so the walk ends. Returns the nodes from that start to the logit and the weight
    /// of each edge between them (`weights[i]` is the edge `nodes[i] -> nodes[i + 1]`).
    public static func featureChain(in graph: AttributionGraph, logit: Int = 0) -> (nodes: [Int], weights: [Float]) {
        let layout = graph.layout
        var chain = [layout.logitNode(logit)], weights: [Float] = []
        func strongest(into t: Int, in sources: Range<Int>) -> Int? {
            var best: Int?, bestWeight: Float = 0
            for s in sources where graph.edge(from: s, to: t) > bestWeight { (best, bestWeight) = (s, graph.edge(from: s, to: t)) }
            return best
        }
        while let t = chain.first, let s = strongest(into: t, in: 0..<layout.features), chain.count <= layout.nodes {
            chain.insert(s, at: 0)
            weights.insert(graph.edge(from: s, to: t), at: 0)
        }
        if let t = chain.first, let s = strongest(into: t, in: layout.features..<layout.sources) {
            chain.insert(s, at: 0)
            weights.insert(graph.edge(from: s, to: t), at: 0)
        }
        return (chain, weights)
    }
}
