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
        var za = [Float](repeating: 0, count: k * n)
        za.withUnsafeMutableBufferPointer { featureProduct(features, k: k, d: d, x: x, n: n, into: $0) }
        return za
    }

    /// ``featureProduct(_:k:d:x:n:)`` into `out` (`k·n` values), so a fit reuses one buffer.
    static func featureProduct(_ features: [Float], k: Int, d: Int, x: UnsafeBufferPointer<Float>, n: Int,
                               into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= k * n, "ZᵀA needs \(k) x \(n) values")
        let nonzero = features.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        if Double(nonzero) <= sparseProductDensity * Double(k * d) {
            return sparseFeatureProduct(features: features, k: k, d: d, x: x, n: n, into: out)
        }
        features.withUnsafeBufferPointer { f in
            BLAS.gemmTransposedB(m: k, n: n, k: d, a: f.baseAddress!, b: x.baseAddress!, c: out.baseAddress!)
        }
    }

    /// `Zᵀ Xᵀ` from Z's nonzero weights: per token (rows in parallel chunks) and feature, the
    /// sum over the feature's nonzero neurons of weight times the token's activation.
    public static func sparseFeatureProduct(features: [Float], k: Int, d: Int, x: UnsafeBufferPointer<Float>, n: Int) -> [Float] {
        var za = [Float](repeating: 0, count: k * n)
        za.withUnsafeMutableBufferPointer { sparseFeatureProduct(features: features, k: k, d: d, x: x, n: n, into: $0) }
        return za
    }

    /// ``sparseFeatureProduct(features:k:d:x:n:)`` into `out` (`k·n` values).
    ///
    /// Eight tokens at a time, neuron by neuron in increasing order: each used neuron's eight
    /// activations are read once (the eight rows are walked forward, which the hardware
    /// prefetches) and added, weighted, to the sums of the features that use it. Each token's
    /// sum for a feature still runs over its neurons in increasing order, as a dot product would.
    static func sparseFeatureProduct(features: [Float], k: Int, d: Int, x: UnsafeBufferPointer<Float>, n: Int,
                                     into out: UnsafeMutableBufferPointer<Float>) {
        precondition(features.count == k * d && x.count >= n * d && out.count >= k * n, "features [\(k), \(d)] and rows [\(n), \(d)]")
        let columns = SparseColumns(features, k: k, d: d)
        nonisolated(unsafe) let out = out
        parallelChunks(n, minimumPerChunk: 256) { tokens in
            let sums = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: k)
            defer { sums.deallocate() }
            var t = tokens.lowerBound
            while t + 8 <= tokens.upperBound {
                let r = x.baseAddress! + t * d
                columns.accumulate(into: sums) { j in
                    SIMD8(r[j], r[j + d], r[j + 2 * d], r[j + 3 * d], r[j + 4 * d], r[j + 5 * d], r[j + 6 * d], r[j + 7 * d])
                }
                for f in 0..<k {
                    UnsafeMutableRawPointer(out.baseAddress! + f * n + t).storeBytes(of: sums[f], as: SIMD8<Float>.self)
                }
                t += 8
            }
            for t in t..<tokens.upperBound {  // the last few tokens one at a time, in all eight lanes
                let r = x.baseAddress! + t * d
                columns.accumulate(into: sums) { SIMD8(repeating: r[$0]) }
                for f in 0..<k { out[f * n + t] = sums[f][0] }
            }
        }
    }
}

/// Zᵀ's nonzero weights by neuron (column), neurons in increasing order: for each used neuron,
/// the features that use it and their weights.
struct SparseColumns: Sendable {
    let k: Int
    var neurons: [Int] = [], starts: [Int] = [0], features: [Int] = [], weights: [Float] = []

    init(_ z: [Float], k: Int, d: Int) {
        self.k = k
        for j in 0..<d {
            for f in 0..<k where z[f * d + j] != 0 { features.append(f); weights.append(z[f * d + j]) }
            if features.count > starts.last! { neurons.append(j); starts.append(features.count) }
        }
    }

    /// `sums[f] = Σ_j w_fj · value(j)` over the used neurons j in increasing order, for every feature f.
    @inline(__always)
    func accumulate(into sums: UnsafeMutablePointer<SIMD8<Float>>, _ value: (Int) -> SIMD8<Float>) {
        sums.update(repeating: SIMD8<Float>(), count: k)
        neurons.withUnsafeBufferPointer { neurons in starts.withUnsafeBufferPointer { starts in
            features.withUnsafeBufferPointer { features in weights.withUnsafeBufferPointer { weights in
                for u in 0..<neurons.count {
                    let v = value(neurons[u])
                    for e in starts[u]..<starts[u + 1] { sums[features[e]] += weights[e] * v }
                }
            } }
        } }
    }
}
