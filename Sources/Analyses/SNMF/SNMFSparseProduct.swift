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
            starts.withUnsafeBufferPointer { starts in neurons.withUnsafeBufferPointer { neurons in weights.withUnsafeBufferPointer { weights in
                nonisolated(unsafe) let (out, starts, neurons, weights) = (out, starts, neurons, weights)
                parallelChunks(n, minimumPerChunk: 256) { tokens in
                    // Four tokens at a time: four independent sums per feature keep the
                    // multiply-adds from waiting on each other (each token's sum keeps its order).
                    var t = tokens.lowerBound
                    while t + 4 <= tokens.upperBound {
                        let r0 = x.baseAddress! + t * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d
                        for f in 0..<k {
                            var (s0, s1, s2, s3): (Float, Float, Float, Float) = (0, 0, 0, 0)
                            for e in starts[f]..<starts[f + 1] {
                                let (w, j) = (weights[e], neurons[e])
                                s0 += w * r0[j]; s1 += w * r1[j]; s2 += w * r2[j]; s3 += w * r3[j]
                            }
                            (out[f * n + t], out[f * n + t + 1], out[f * n + t + 2], out[f * n + t + 3]) = (s0, s1, s2, s3)
                        }
                        t += 4
                    }
                    for t in t..<tokens.upperBound {
                        let row = x.baseAddress! + t * d
                        for f in 0..<k {
                            var sum: Float = 0
                            for e in starts[f]..<starts[f + 1] { sum += weights[e] * row[neurons[e]] }
                            out[f * n + t] = sum
                        }
                    }
                }
            } } }
        }
        return za
    }
}
