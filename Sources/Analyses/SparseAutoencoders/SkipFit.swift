import Linalg

/// A skip transcoder's linear part fitted from data before training: ridge least squares of
/// the target rows on the input rows, with an intercept, `y ≈ x · W_skipᵀ + b`. Starting
/// `W_skip` and `b_dec` there (instead of zero and the targets' mean) gives the latents only
/// the part of the MLP a linear map misses from the first step; a short run otherwise spends
/// most of its steps moving `W_skip` at Adam's step size.
public enum SkipFit {
    /// `W_skip` `[d_out, d_in]` and the intercept `[d_out]` minimizing
    /// `Σ |y - x W_skipᵀ - b|² + λ |W_skip|²`, with `λ = ridge · trace(XᵀX) / d_in` on the centred
    /// input (scale-free).
    /// - Throws: ``SAEError`` for mismatched or empty matrices; ``Linalg/LinalgError`` when
    ///   the normal equations are singular (all-constant input with `ridge` 0).
    public static func leastSquares(input x: Tensor, target y: Tensor, ridge: Double = 1e-3) throws -> (wSkip: [Float], bias: [Float]) {
        guard x.rank == 2, y.rank == 2, x.shape[0] == y.shape[0], x.shape[0] > 0 else {
            throw SAEError.widthMismatch(expected: x.shape.first ?? 0, found: y.shape.first ?? 0, what: "rows of the skip fit's target \(y.shape) for input \(x.shape)")
        }
        let (n, d, dOut) = (x.shape[0], x.shape[1], y.shape[1])
        func centred(_ t: Tensor) -> (rows: [Float], mean: [Double]) {
            let w = t.shape[1]
            var mean = [Double](repeating: 0, count: w)
            for r in 0..<n { for j in 0..<w { mean[j] += Double(t.scalars[r * w + j]) } }
            for j in 0..<w { mean[j] /= Double(n) }
            var rows = t.scalars
            for r in 0..<n { for j in 0..<w { rows[r * w + j] -= Float(mean[j]) } }
            return (rows, mean)
        }
        let (xc, mx) = centred(x), (yc, my) = centred(y)
        var xx = [Float](repeating: 0, count: d * d), xy = [Float](repeating: 0, count: d * dOut)
        xc.withUnsafeBufferPointer { a in
            xx.withUnsafeMutableBufferPointer { c in BLAS.gemmTransposedA(m: d, n: d, k: n, a: a.baseAddress!, b: a.baseAddress!, c: c.baseAddress!) }
            yc.withUnsafeBufferPointer { b in
                xy.withUnsafeMutableBufferPointer { c in BLAS.gemmTransposedA(m: d, n: dOut, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!) }
            }
        }
        var a = xx.map(Double.init)
        let trace = (0..<d).reduce(0.0) { $0 + a[$1 * d + $1] }
        let lambda = max(ridge * trace / Double(d), 1e-12)
        for i in 0..<d { a[i * d + i] += lambda }
        let w = try LAPACK.choleskySolve(a, xy.map(Double.init), n: d, rightHandSides: dOut)   // [d_in, d_out]
        var wSkip = [Float](repeating: 0, count: dOut * d), bias = [Float](repeating: 0, count: dOut)
        for o in 0..<dOut {
            var b = my[o]
            for i in 0..<d {
                wSkip[o * d + i] = Float(w[i * dOut + o])
                b -= mx[i] * w[i * dOut + o]
            }
            bias[o] = Float(b)
        }
        return (wSkip, bias)
    }
}
