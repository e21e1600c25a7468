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

    /// Ridge strengths ``validated(input:target:ridges:)`` chooses from (times the mean input variance).
    public static let candidateRidges: [Double] = [1e-3, 1e-2, 1e-1, 1]

    /// The fit of ``leastSquares(input:target:ridge:)`` with the ridge that predicts best on a
    /// held-out fifth of the rows (every fifth row; the other four fifths fit each candidate),
    /// then refitted on all rows. A ridge too weak for the sample lets directions in which the
    /// input barely varies take large weights that fit the sample and not the next rows (on the
    /// default model's layer 11 a ridge of 1e-3 gave a `W_skip` of norm 4,372 against 247 at
    /// layer 10, and a negative held-out explained variance).
    /// - Throws: as ``leastSquares(input:target:ridge:)``.
    public static func validated(input x: Tensor, target y: Tensor, ridges: [Double] = candidateRidges) throws -> (wSkip: [Float], bias: [Float], ridge: Double) {
        let n = x.shape.first ?? 0
        guard ridges.count > 1, n >= 10, x.rank == 2, y.rank == 2, y.shape[0] == n else {
            let ridge = ridges.first ?? 1e-3
            let fit = try leastSquares(input: x, target: y, ridge: ridge)
            return (fit.wSkip, fit.bias, ridge)
        }
        let held = Array(stride(from: 4, to: n, by: 5)), fitted = (0..<n).filter { $0 % 5 != 4 }
        let (xf, yf, xh, yh) = (x.rows(at: fitted), y.rows(at: fitted), x.rows(at: held), y.rows(at: held))
        var best = (ridge: ridges[0], error: Double.infinity)
        for ridge in ridges {
            let fit = try leastSquares(input: xf, target: yf, ridge: ridge)
            let error = squaredError(wSkip: fit.wSkip, bias: fit.bias, input: xh, target: yh)
            if error < best.error { best = (ridge, error) }
        }
        let fit = try leastSquares(input: x, target: y, ridge: best.ridge)
        return (fit.wSkip, fit.bias, best.ridge)
    }

    /// `Σ |y - x W_skipᵀ - b|²` over the rows.
    public static func squaredError(wSkip: [Float], bias: [Float], input x: Tensor, target y: Tensor) -> Double {
        let (n, d, dOut) = (x.shape[0], x.shape[1], y.shape[1])
        var predicted = [Float](repeating: 0, count: n * dOut)
        x.withUnsafeBufferPointer { a in wSkip.withUnsafeBufferPointer { w in predicted.withUnsafeMutableBufferPointer { c in
            BLAS.gemmTransposedB(m: n, n: dOut, k: d, a: a.baseAddress!, b: w.baseAddress!, c: c.baseAddress!)
        } } }
        var total = 0.0
        for r in 0..<n { for o in 0..<dOut {
            let e = Double(predicted[r * dOut + o]) + Double(bias[o]) - Double(y.scalars[r * dOut + o])
            total += e * e
        } }
        return total.isFinite ? total : .infinity
    }
}
