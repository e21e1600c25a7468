/// A graph pruned by influence (circuit-tracer `prune_graph`): the nodes carrying
/// `nodeThreshold` of the total influence on the logits (tokens and logits always kept), then,
/// in the graph restricted to them, the edges carrying `edgeThreshold` of the edge influence
/// (normalized weight times the target's influence plus its logit weight); finally feature and
/// error nodes left without an outgoing edge, and features without an incoming one, are dropped
/// until none changes.
public struct GraphPruning: Sendable {
    /// Per node, whether it is kept.
    public let nodeMask: [Bool]
    /// Per (target, source), row-major like the adjacency, whether the edge is kept.
    public let edgeMask: [Bool]
    /// Per node, the share of total influence of the nodes at least as influential (what the
    /// frontend shows as `influence`).
    public let cumulativeScores: [Float]
    /// Per node, its influence on the logits.
    public let influence: [Float]

    /// - Throws: ``GraphError/badOption(_:)`` for thresholds outside [0, 1].
    public init(_ graph: AttributionGraph, nodeThreshold: Float = 0.8, edgeThreshold: Float = 0.98) throws {
        for (name, v) in [("node threshold", nodeThreshold), ("edge threshold", edgeThreshold)] where !(v >= 0 && v <= 1) {
            throw GraphError.badOption("\(name) \(v): must be between 0 and 1")
        }
        let layout = graph.layout, nodes = layout.nodes, a = graph.adjacency
        let weights = graph.logitWeights
        // One work matrix beside the adjacency: the normalized graph, then the normalized
        // pruned graph, then the edge scores, each written over the last.
        var work = [Float](repeating: 0, count: nodes * nodes)
        GraphInfluence.normalize(a, nodes: nodes, keep: nil, into: &work)
        let nodeInfluence = try GraphInfluence.influence(work, weights: weights, nodes: nodes)
        let nodeCut = GraphInfluence.threshold(nodeInfluence, fraction: nodeThreshold)
        var nodeMask = nodeInfluence.map { $0 >= nodeCut }
        for i in layout.tokenOffset..<nodes { nodeMask[i] = true }
        GraphInfluence.normalize(a, nodes: nodes, keep: nodeMask, into: &work)
        var prunedInfluence = try GraphInfluence.influence(work, weights: weights, nodes: nodes)
        for i in 0..<nodes { prunedInfluence[i] += weights[i] }
        for t in 0..<nodes { let f = prunedInfluence[t]; for s in 0..<nodes { work[t * nodes + s] *= f } }
        let edgeCut = GraphInfluence.threshold(work, fraction: edgeThreshold)
        var edgeMask = work.map { $0 >= edgeCut }
        work = []
        let inner = layout.tokenOffset   // features and errors
        func dropLonely() {
            for s in 0..<inner where nodeMask[s] {
                var out = false
                for t in 0..<nodes where edgeMask[t * nodes + s] { out = true; break }
                if !out { nodeMask[s] = false }
            }
            for t in 0..<layout.features where nodeMask[t] {
                var into = false
                for s in 0..<nodes where edgeMask[t * nodes + s] { into = true; break }
                if !into { nodeMask[t] = false }
            }
        }
        var before = nodeMask
        dropLonely()
        while nodeMask != before {
            before = nodeMask
            for t in 0..<nodes { for s in 0..<nodes where !nodeMask[t] || !nodeMask[s] { edgeMask[t * nodes + s] = false } }
            dropLonely()
        }
        let order = nodeInfluence.indices.sorted { nodeInfluence[$0] > nodeInfluence[$1] }
        let total = nodeInfluence.reduce(0.0) { $0 + Double($1) }
        var cumulative = [Float](repeating: 0, count: nodes), running = 0.0
        for i in order { running += Double(nodeInfluence[i]); cumulative[i] = Float(running / max(total, 1e-30)) }
        self.nodeMask = nodeMask
        self.edgeMask = edgeMask
        cumulativeScores = cumulative
        influence = nodeInfluence
    }
}

extension AttributionGraph {
    /// The logit probabilities on the logit nodes, zero elsewhere (`[nodes]`).
    public var logitWeights: [Float] {
        var w = [Float](repeating: 0, count: layout.nodes)
        for (i, p) in logitTargets.probabilities.enumerated() { w[layout.logitNode(i)] = p }
        return w
    }

    /// circuit-tracer's `compute_graph_scores`. Replacement: of the influence reaching the
    /// logits from tokens and errors, the share from tokens (paths through features only).
    /// Completeness: over all nodes weighted by their influence plus logit weight, the share
    /// of their normalized input that does not come from error nodes.
    public func scores() throws -> (replacement: Float, completeness: Float) {
        let nodes = layout.nodes, weights = logitWeights
        let normalized = GraphInfluence.normalized(adjacency, nodes: nodes)
        let influence = try GraphInfluence.influence(normalized, weights: weights, nodes: nodes)
        var token = 0.0, error = 0.0
        for i in layout.tokenOffset..<layout.logitOffset { token += Double(influence[i]) }
        for i in layout.errorOffset..<layout.tokenOffset { error += Double(influence[i]) }
        var weighted = 0.0, total = 0.0
        for t in 0..<nodes {
            var fromErrors = 0.0
            for s in layout.errorOffset..<layout.tokenOffset { fromErrors += Double(normalized[t * nodes + s]) }
            let out = Double(influence[t] + weights[t])
            weighted += (1 - fromErrors) * out
            total += out
        }
        return (Float(token / max(token + error, 1e-30)), Float(weighted / max(total, 1e-30)))
    }
}
