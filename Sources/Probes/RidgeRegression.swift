import Linalg

/// Ridge regression in closed form: minimizes `|Xs w + b - y|² + alpha |w|²` for each target
/// column (scikit-learn's `Ridge`, intercept unpenalized), where `Xs` is the data centered
/// (and scaled, when standardizing). With at least as many rows as features the Gram matrix
/// `XsᵀXs` is one float32 sgemm and `(XsᵀXs + alpha I) W = XsᵀY` is solved in Double by
/// Cholesky (LAPACK `dposv`); with fewer rows the same solution comes from the rows' kernel,
/// `W = Xsᵀ (XsXsᵀ + alpha I)⁻¹ Y`, an n x n system instead of d x d.
public struct RidgeRegression: Sendable {
    public var alpha: Double

    public init(alpha: Double = 1) { self.alpha = alpha }

    /// Weights `[targets][width]` and intercepts in raw space for `targets` (`[rows][t]`).
    /// - Throws: ``ProbeError/underdetermined(features:rows:what:)`` when `alpha` is 0 and
    ///   the system is singular.
    public func fit(_ m: FeatureMatrix, targets: [[Double]], standardize: Bool) throws -> (weights: [[Double]], bias: [Double]) {
        try Self.fit(m, targets: targets, alphas: [alpha], standardize: standardize)[0]
    }

    /// The fit for each of `alphas`, sharing the centering and the Gram (or kernel) matrix.
    public static func fit(_ m: FeatureMatrix, targets: [[Double]], alphas: [Double],
                           standardize: Bool) throws -> [(weights: [[Double]], bias: [Double])] {
        let n = m.rows, d = m.width, t = targets.first?.count ?? 0
        precondition(targets.count == n && t > 0, "\(targets.count) target rows for \(n) rows")
        if alphas.contains(where: { $0 <= 0 }) && n <= d {
            throw ProbeError.underdetermined(features: d, rows: n, what: "XᵀX is singular")
        }
        let st = Standardization(fitting: m)
        let scale = standardize ? st.scale : Array(repeating: 1, count: d)
        // Centered (and scaled) copy, one pass.
        var xs = m.x
        xs.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let row = p.baseAddress! + i * d
                for j in 0..<d { row[j] = (row[j] - st.mean[j]) / scale[j] }
            }
        }
        let yMean = (0..<t).map { c in targets.reduce(0.0) { $0 + $1[c] } / Double(n) }
        var yc = [Float](repeating: 0, count: n * t)
        for i in 0..<n { for c in 0..<t { yc[i * t + c] = Float(targets[i][c] - yMean[c]) } }
        let dual = n < d
        let size = dual ? n : d
        var gram = [Float](repeating: 0, count: size * size), rhs = [Float](repeating: 0, count: d * t)
        xs.withUnsafeBufferPointer { x in
            gram.withUnsafeMutableBufferPointer { g in
                if dual {
                    BLAS.gemmTransposedB(m: n, n: n, k: d, a: x.baseAddress!, b: x.baseAddress!, c: g.baseAddress!)
                } else {
                    BLAS.gemmTransposedA(m: d, n: d, k: n, a: x.baseAddress!, b: x.baseAddress!, c: g.baseAddress!)
                }
            }
            if !dual {
                yc.withUnsafeBufferPointer { y in
                    rhs.withUnsafeMutableBufferPointer { r in
                        BLAS.gemmTransposedA(m: d, n: t, k: n, a: x.baseAddress!, b: y.baseAddress!, c: r.baseAddress!)
                    }
                }
            }
        }
        let a0 = gram.map(Double.init)
        return try alphas.map { alpha in
            var a = a0
            for j in 0..<size { a[j * size + j] += alpha }
            let solution: [Double]
            do {
                solution = try LAPACK.choleskySolve(a, dual ? yc.map(Double.init) : rhs.map(Double.init), n: size, rightHandSides: t)
            } catch let error as LinalgError {
                throw ProbeError.underdetermined(features: d, rows: n, what: "the regularized Gram matrix cannot be solved: \(error)")
            }
            var weights: [[Double]] = [], bias: [Double] = []
            for c in 0..<t {
                var ws = [Double](repeating: 0, count: d)
                if dual {  // ws = Xsᵀ c
                    for i in 0..<n {
                        let ci = solution[i * t + c]
                        for j in 0..<d { ws[j] += Double(xs[i * d + j]) * ci }
                    }
                } else {
                    for j in 0..<d { ws[j] = solution[j * t + c] }
                }
                let w = (0..<d).map { ws[$0] / Double(scale[$0]) }
                weights.append(w)
                bias.append(yMean[c] - (0..<d).reduce(0.0) { $0 + w[$1] * Double(st.mean[$1]) })
            }
            return (weights, bias)
        }
    }

    /// A classifier: ±1 targets (one column for two classes, one per class otherwise).
    public func fitClassifier(_ m: FeatureMatrix, standardize: Bool) throws -> LinearProbe {
        let k = m.classes.count
        let targets: [[Double]] = m.labels.map { l in
            k == 2 ? [l == 1 ? 1 : -1] : (0..<k).map { $0 == l ? 1 : -1 }
        }
        let (w, b) = try fit(m, targets: targets, standardize: standardize)
        return LinearProbe(kind: .ridge, link: .none, classes: m.classes, weights: w.map { $0.map(Float.init) },
                           bias: b.map(Float.init), standardization: standardize ? Standardization(fitting: m) : nil)
    }

    /// A probe of a numeric target: one weight row whose score is the predicted value
    /// (`classes` holds the field's name).
    public func fitValues(_ data: RegressionData, standardize: Bool) throws -> LinearProbe {
        try Self.fitValues(data, alphas: [alpha], standardize: standardize)[0]
    }

    /// ``fitValues(_:standardize:)`` for each of `alphas`, sharing the Gram matrix.
    public static func fitValues(_ data: RegressionData, alphas: [Double], standardize: Bool) throws -> [LinearProbe] {
        let st = standardize ? Standardization(fitting: data.matrix) : nil
        return try fit(data.matrix, targets: data.targets.map { [$0] }, alphas: alphas, standardize: standardize).map { w, b in
            LinearProbe(kind: .ridge, link: .none, classes: [data.field], weights: w.map { $0.map(Float.init) },
                        bias: b.map(Float.init), standardization: st)
        }
    }
}
