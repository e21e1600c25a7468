import Linalg

/// The steps every semi-NMF fit shares (in memory, streamed, hierarchy), in one place.
extension SemiNMF {
    /// `Σ c·a·b` over `terms`, or nil on overflow (the memory formulas).
    static func checkedBytes(_ terms: [(Int, Int, Int)]) -> Int? {
        var total = 0
        for (c, a, b) in terms {
            let (ab, o1) = a.multipliedReportingOverflow(by: b)
            let (cab, o2) = ab.multipliedReportingOverflow(by: c)
            let (sum, o3) = total.addingReportingOverflow(cab)
            if o1 || o2 || o3 { return nil }
            total = sum
        }
        return total
    }

    /// Solves `(S + ridge·I) W = B` for symmetric `s` `[k, k]` and `b` `[k, cols]` by a Cholesky
    /// solve in Double (never an inverse).
    /// - Throws: ``SNMFError/singularSystem(_:)`` naming `what` when it cannot be factored.
    static func ridgeSolve(_ s: [Float], _ b: [Float], k: Int, cols: Int, ridge: Double, what: String) throws -> [Float] {
        var system = s.map(Double.init)
        for i in 0..<k { system[i * k + i] += ridge }
        do {
            return try LAPACK.choleskySolve(system, b.map(Double.init), n: k, rightHandSides: cols).map { Float($0) }
        } catch let error as LinalgError {
            throw SNMFError.singularSystem("\(what) + \(ridge)·I (k = \(k)) cannot be factored: \(error); raise the ridge")
        }
    }

    /// Each row of `codes` (`[k, n]`) to unit norm and the same row of `features` (`[k, width]`)
    /// scaled by the old norm, so their product is unchanged; a zero row is left alone.
    static func normalizeRows(codes: inout [Float], n: Int, features: inout [Float], width: Int, k: Int) {
        for i in 0..<k {
            let norm = codes.withUnsafeBufferPointer { BLAS.norm(n: n, x: $0.baseAddress! + i * n) }
            guard norm > 0, norm.isFinite else { continue }
            for j in 0..<n { codes[i * n + j] /= norm }
            for j in 0..<width { features[i * width + j] *= norm }
        }
    }

    /// Ding et al.'s multiplicative update of codes `y` (`[k, c]`) from `ZᵀA` (`[k, c]`) and
    /// `ZᵀZ` (`[k, k]`): `Y ← Y ⊙ sqrt(((ZᵀA)⁺ + (ZᵀZ)⁻Y) / ((ZᵀA)⁻ + (ZᵀZ)⁺Y + ε))`.
    /// `plus` and `minus` are scratch of at least `k·c` values, reused across calls.
    static func dingUpdate(_ y: inout [Float], za: [Float], zz: [Float], k: Int, columns c: Int, epsilon: Float,
                           plus: inout [Float], minus: inout [Float]) {
        let pos = zz.map { (abs($0) + $0) / 2 }, neg = zz.map { (abs($0) - $0) / 2 }
        y.withUnsafeBufferPointer { yp in
            plus.withUnsafeMutableBufferPointer { gramProduct(pos, y: yp.baseAddress!, k: k, columns: c, into: $0.baseAddress!) }
            minus.withUnsafeMutableBufferPointer { gramProduct(neg, y: yp.baseAddress!, k: k, columns: c, into: $0.baseAddress!) }
        }
        y.withUnsafeMutableBufferPointer { yp in za.withUnsafeBufferPointer { a in
            plus.withUnsafeBufferPointer { p in minus.withUnsafeBufferPointer { m in
                for i in 0..<(k * c) {
                    let denominator = max(-a[i], 0) + p[i] + epsilon
                    if denominator > 0 { yp[i] *= ((max(a[i], 0) + m[i]) / denominator).squareRoot() }
                }
            } }
        } }
    }

    /// Below this fraction of nonzero entries, ``gramProduct(_:y:k:columns:into:)`` works from
    /// the nonzeros: the features of a sparse Z rarely share neurons, so `ZᵀZ` is nearly diagonal.
    static let sparseGramDensity = 0.25

    /// `m Y` for `m` `[k, k]` and `y` `[k, c]` into `out` (`[k, c]`): by sgemm, or as a sum of
    /// scaled rows of Y over m's nonzero entries when at most ``sparseGramDensity`` of them are
    /// nonzero (the same sums, in column order of m).
    static func gramProduct(_ m: [Float], y: UnsafePointer<Float>, k: Int, columns c: Int, into out: UnsafeMutablePointer<Float>) {
        let nonzero = m.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        guard Double(nonzero) <= sparseGramDensity * Double(k * k) else {
            m.withUnsafeBufferPointer { BLAS.gemm(m: k, n: c, k: k, a: $0.baseAddress!, b: y, c: out) }
            return
        }
        out.update(repeating: 0, count: k * c)
        for i in 0..<k {
            for j in 0..<k where m[i * k + j] != 0 {
                Kernels.addScaled(m[i * k + j], y + j * c, to: out + i * c, count: c)
            }
        }
    }
}
