import Linalg
import Foundation

/// L2-regularized logistic regression, binary (sigmoid, one weight vector) or multinomial
/// (softmax over one weight vector per class, as scikit-learn's `lbfgs` solver), fitted by
/// ``LBFGS`` on scikit-learn's objective
///
///     mean log-loss + 1 / (2 C n) · |W|²      (the intercept is not penalized)
///
/// so that `C` means what it means in `LogisticRegression(C=...)` and the stopping rule
/// (`max |gradient| <= tolerance`, default 1e-4) is the same. The data stay float32 and every
/// pass over them is one BLAS call (sgemv for binary, sgemm for K classes); a
/// standardization is folded into the weights instead of copying the data.
public struct LogisticRegression: Sendable {
    /// Inverse regularization strength; `.infinity` means none.
    public var c: Double
    public var solver: LBFGS

    public init(c: Double = 1, tolerance: Double = 1e-4, maxIterations: Int = 1000) {
        self.c = c
        self.solver = LBFGS(tolerance: tolerance, maxIterations: maxIterations)
    }

    /// Fits `m` (standardized by `standardization` when given).
    /// - Throws: ``ProbeError/underdetermined(features:rows:what:)`` with no regularization
    ///   and no more rows than features.
    public func fit(_ m: FeatureMatrix, standardization: Standardization?) throws -> (probe: LinearProbe, result: LBFGS.Result) {
        let k = m.classes.count
        precondition(k >= 2, "logistic regression needs two classes")
        if !c.isFinite && m.rows <= m.width {
            throw ProbeError.underdetermined(features: m.width, rows: m.rows, what: "the data are separable and the weights grow without bound")
        }
        let lambda = c.isFinite ? 1 / (c * Double(m.rows)) : 0
        let st = standardization ?? .identity(m.width)
        let outputs = k == 2 ? 1 : k
        let loss = LogisticLoss(m: m, st: st, outputs: outputs, lambda: lambda)
        let result = solver.minimize([Double](repeating: 0, count: outputs * (m.width + 1))) { theta, g in
            loss.evaluate(theta, gradient: &g)
        }
        let d = m.width
        let w = (0..<outputs).map { Array(result.x[($0 * d)..<(($0 + 1) * d)]) }
        let b = Array(result.x[(outputs * d)...])
        let probe = LinearProbe(kind: .logistic, link: .logistic, classes: m.classes, standardizedWeights: w, bias: b,
                                standardization: standardization, outlierNorm: nil)
        return (probe, result)
    }
}

/// The objective and its gradient for ``LogisticRegression``. Parameters: `outputs` weight
/// rows of `width` (standardized space), then `outputs` intercepts.
struct LogisticLoss {
    let m: FeatureMatrix
    let st: Standardization
    let outputs: Int
    let lambda: Double
    let invScale: [Double]

    init(m: FeatureMatrix, st: Standardization, outputs: Int, lambda: Double) {
        self.m = m
        self.st = st
        self.outputs = outputs
        self.lambda = lambda
        invScale = st.scale.map { 1 / Double($0) }
    }

    func evaluate(_ theta: [Double], gradient g: inout [Double]) -> Double {
        let n = m.rows, d = m.width, k = outputs
        // Raw-space weights w' = w / scale and intercepts c = b - w'·mean.
        var wRaw = [Float](repeating: 0, count: k * d)
        var shift = [Double](repeating: 0, count: k)
        for r in 0..<k {
            var s = 0.0
            for j in 0..<d {
                let v = theta[r * d + j] * invScale[j]
                wRaw[r * d + j] = Float(v)
                s += v * Double(st.mean[j])
            }
            shift[r] = theta[k * d + r] - s
        }
        var z = [Float](repeating: 0, count: n * k)
        m.x.withUnsafeBufferPointer { x in
            wRaw.withUnsafeBufferPointer { w in
                z.withUnsafeMutableBufferPointer { zp in
                    if k == 1 {
                        BLAS.gemv(n: n, k: d, w: x.baseAddress!, x: w.baseAddress!, y: zp.baseAddress!)
                    } else {
                        BLAS.gemmTransposedB(m: n, n: k, k: d, a: x.baseAddress!, b: w.baseAddress!, c: zp.baseAddress!)
                    }
                }
            }
        }
        // Loss and residuals r = p - y, row by row (n x k values, not n x d).
        var loss = 0.0
        var residualSum = [Double](repeating: 0, count: k)
        let labels = m.labels
        z.withUnsafeMutableBufferPointer { zp in
            if k == 1 {
                for i in 0..<n {
                    let zi = Double(zp[i]) + shift[0]
                    let y = Double(labels[i])
                    // softplus(z) - y z, stably
                    loss += (zi > 0 ? zi + Foundation.log1p(Foundation.exp(-zi)) : Foundation.log1p(Foundation.exp(zi))) - y * zi
                    let p = zi >= 0 ? 1 / (1 + Foundation.exp(-zi)) : Foundation.exp(zi) / (1 + Foundation.exp(zi))
                    let r = p - y
                    zp[i] = Float(r)
                    residualSum[0] += r
                }
            } else {
                var row = [Double](repeating: 0, count: k)
                for i in 0..<n {
                    var top = -Double.infinity
                    for c in 0..<k { row[c] = Double(zp[i * k + c]) + shift[c]; top = max(top, row[c]) }
                    var total = 0.0
                    for c in 0..<k { row[c] = Foundation.exp(row[c] - top); total += row[c] }
                    let y = labels[i]
                    loss += Foundation.log(total) + top - (Foundation.log(row[y]) + top)
                    for c in 0..<k {
                        let r = row[c] / total - (c == y ? 1 : 0)
                        zp[i * k + c] = Float(r)
                        residualSum[c] += r
                    }
                }
            }
        }
        // Gradient of the data term: Xᵀ r (sgemv) or rᵀ X (sgemm), in raw space.
        var gx = [Float](repeating: 0, count: k * d)
        m.x.withUnsafeBufferPointer { x in
            z.withUnsafeBufferPointer { r in
                gx.withUnsafeMutableBufferPointer { gp in
                    if k == 1 {
                        BLAS.gemvTransposed(n: n, k: d, w: x.baseAddress!, x: r.baseAddress!, y: gp.baseAddress!)
                    } else {
                        BLAS.gemmTransposedA(m: k, n: d, k: n, a: r.baseAddress!, b: x.baseAddress!, c: gp.baseAddress!)
                    }
                }
            }
        }
        let invN = 1 / Double(n)
        var penalty = 0.0
        for r in 0..<k {
            for j in 0..<d {
                let w = theta[r * d + j]
                penalty += w * w
                g[r * d + j] = (Double(gx[r * d + j]) - Double(st.mean[j]) * residualSum[r]) * invScale[j] * invN + lambda * w
            }
            g[k * d + r] = residualSum[r] * invN
        }
        return loss * invN + 0.5 * lambda * penalty
    }
}
