import Linalg

/// Influence on the logits (circuit-tracer `graph.py`): the adjacency made non-negative and
/// row-normalized, `Â = |A| / rowsum`, and a node's influence `Σ_k (w Â^k)`, `w` the logit
/// probabilities on the logit nodes (`A` is nilpotent: the graph has no cycles).
enum GraphInfluence {
    /// `|A|` with each row divided by its sum (at least 1e-10), `[nodes, nodes]`.
    static func normalized(_ a: [Float], nodes: Int) -> [Float] {
        var out = [Float](repeating: 0, count: nodes * nodes)
        normalize(a, nodes: nodes, keep: nil, into: &out)
        return out
    }

    /// Writes `|A|` restricted to the nodes in `keep` (nil: all; entries with either end out
    /// are 0), each row divided by its sum (at least 1e-10), into `out` (`[nodes, nodes]`,
    /// reused so pruning holds one work matrix beside the adjacency, not three).
    static func normalize(_ a: [Float], nodes: Int, keep: [Bool]?, into out: inout [Float]) {
        precondition(out.count == nodes * nodes && a.count == nodes * nodes, "matrices must be nodes x nodes")
        for r in 0..<nodes {
            var sum: Float = 0
            let rowKept = keep?[r] ?? true
            for j in 0..<nodes {
                let v = rowKept && (keep?[j] ?? true) ? abs(a[r * nodes + j]) : 0
                out[r * nodes + j] = v
                sum += v
            }
            let inv = 1 / max(sum, 1e-10)
            for j in 0..<nodes { out[r * nodes + j] *= inv }
        }
    }

    /// `Σ_{k>=1} w Âᵏ` for the normalized matrix `normalized`.
    /// - Throws: ``GraphError/badOption(_:)`` if it has not vanished after 1000 products (a cycle).
    static func influence(_ normalized: [Float], weights: [Float], nodes: Int) throws -> [Float] {
        var current = [Float](repeating: 0, count: nodes), next = current
        normalized.withUnsafeBufferPointer { m in
            weights.withUnsafeBufferPointer { w in current.withUnsafeMutableBufferPointer { BLAS.gemvTransposed(n: nodes, k: nodes, w: m.baseAddress!, x: w.baseAddress!, y: $0.baseAddress!) } }
        }
        var total = current
        var iterations = 0
        while current.contains(where: { $0 != 0 }) {
            guard iterations < 1000 else { throw GraphError.badOption("influence did not converge after 1000 products: the graph has a cycle") }
            normalized.withUnsafeBufferPointer { m in
                current.withUnsafeBufferPointer { x in next.withUnsafeMutableBufferPointer { BLAS.gemvTransposed(n: nodes, k: nodes, w: m.baseAddress!, x: x.baseAddress!, y: $0.baseAddress!) } }
            }
            swap(&current, &next)
            for i in 0..<nodes { total[i] += current[i] }
            iterations += 1
        }
        return total
    }

    /// The score at which the largest scores, taken in order, first reach `fraction` of the
    /// total (circuit-tracer `find_threshold`).
    static func threshold(_ scores: [Float], fraction: Float) -> Float {
        let sorted = scores.filter { $0 > 0 }.sorted(by: >)
        guard !sorted.isEmpty else { return 0 }
        let total = sorted.reduce(0.0) { $0 + Double($1) }
        var cumulative = 0.0
        for (i, v) in sorted.enumerated() {
            cumulative += Double(v)
            if cumulative / total >= Double(fraction) { return sorted[i] }
        }
        // Only zeros remain past the positive scores (or the last one at fraction 1).
        return scores.count > sorted.count ? 0 : sorted[sorted.count - 1]
    }
}
