import Linalg

extension SemiNMF {
    /// Below this fraction of nonzero weights in Zᵀ, `ZᵀA` is computed from the nonzeros
    /// (``sparseFeatureProduct(features:k:d:x:n:)``) instead of by a dense sgemm: with the
    /// default 1% sparsity that is about a hundredth of the flops.
    public static let sparseProductDensity = 0.05

    /// `ZᵀA = Zᵀ Xᵀ`, `[k, n]`, from `features` (`Zᵀ`, `[k, d]`) and the rows `x` (`[n, d]`):
    /// by sgemm, or from the nonzero weights when fewer than ``sparseProductDensity`` of them
    /// are nonzero (the same sums, in neuron order).
    static func featureProduct(_ features: [Float], k: Int, d: Int, x: UnsafeBufferPointer<Float>, n: Int) -> [Float] {
        let nonzero = features.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        if Double(nonzero) <= sparseProductDensity * Double(k * d) {
            return sparseFeatureProduct(features: features, k: k, d: d, x: x, n: n)
        }
        var za = [Float](repeating: 0, count: k * n)
        features.withUnsafeBufferPointer { f in
            za.withUnsafeMutableBufferPointer { c in
                BLAS.gemmTransposedB(m: k, n: n, k: d, a: f.baseAddress!, b: x.baseAddress!, c: c.baseAddress!)
            }
        }
        return za
    }

    /// `Zᵀ Xᵀ` from Z's nonzero weights: per token (rows in parallel chunks) and feature, the
    /// sum over the feature's nonzero neurons of weight times the token's activation.
    public static func sparseFeatureProduct(features: [Float], k: Int, d: Int, x: UnsafeBufferPointer<Float>, n: Int) -> [Float] {
        precondition(features.count == k * d && x.count >= n * d, "features [\(k), \(d)] and rows [\(n), \(d)]")
        var starts = [0], neurons: [Int] = [], weights: [Float] = []
        for f in 0..<k {
            for j in 0..<d where features[f * d + j] != 0 { neurons.append(j); weights.append(features[f * d + j]) }
            starts.append(neurons.count)
        }
        var za = [Float](repeating: 0, count: k * n)
        za.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            parallelChunks(n, minimumPerChunk: 256) { tokens in
                for t in tokens {
                    let row = x.baseAddress! + t * d
                    for f in 0..<k {
                        var sum: Float = 0
                        for e in starts[f]..<starts[f + 1] { sum += weights[e] * row[neurons[e]] }
                        out[f * n + t] = sum
                    }
                }
            }
        }
        return za
    }
}
