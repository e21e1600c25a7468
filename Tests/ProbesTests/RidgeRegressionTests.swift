import Foundation
import Linalg
import Probes
import Testing

/// Ridge regression of numeric targets: the closed form against an independent Double solve,
/// R² and MSE by hand, the experiment on data with a known signal-to-noise ratio, and errors.
@Suite struct RidgeRegressionTests {
    /// Rows x ~ N(0, 1) shifted and scaled per feature, y = x·w* + 3 + noise.
    static func synthetic(rows: Int, width: Int, noise: Float, seed: UInt64) -> (RegressionData, [Float]) {
        var rng = SeededRandom(seed: seed)
        let truth = (0..<width).map { _ in rng.nextGaussian() }
        var x: [Float] = [], y: [Double] = []
        for _ in 0..<rows {
            var s: Float = 3
            for j in 0..<width {
                let v = rng.nextGaussian() * Float(1 + j % 3) + Float(j % 5)
                x.append(v)
                s += truth[j] * (v - Float(j % 5)) / Float(1 + j % 3)
            }
            y.append(Double(s + noise * rng.nextGaussian()))
        }
        return (RegressionData(x: x, rows: rows, width: width, targets: y), truth)
    }

    /// Solves A z = b (Double, Gaussian elimination with partial pivoting).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a, v = b
        let n = b.count
        for col in 0..<n {
            let p = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, p); v.swapAt(col, p)
            for r in (col + 1)..<n {
                let f = m[r][col] / m[col][col]
                for c in col..<n { m[r][c] -= f * m[col][c] }
                v[r] -= f * v[col]
            }
        }
        var z = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            z[r] = (v[r] - ((r + 1)..<n).reduce(0.0) { $0 + m[r][$1] * z[$1] }) / m[r][r]
        }
        return z
    }

    /// The closed form, written out: standardize with population std, center y, solve
    /// (XsᵀXs + αI) ws = Xsᵀ yc, then w = ws / scale and b = ȳ - w·mean.
    static func closedForm(_ data: RegressionData, alpha: Double) -> (w: [Double], b: Double) {
        let n = data.rows, d = data.matrix.width
        let x = (0..<n).map { i in (0..<d).map { Double(data.matrix.x[i * d + $0]) } }
        let mean = (0..<d).map { j in x.reduce(0.0) { $0 + $1[j] } / Double(n) }
        let scale = (0..<d).map { j in (x.reduce(0.0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / Double(n)).squareRoot() }
        let xs = x.map { row in (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
        let ym = data.targets.reduce(0, +) / Double(n)
        var a = Array(repeating: [Double](repeating: 0, count: d), count: d), rhs = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d {
                rhs[j] += xs[i][j] * (data.targets[i] - ym)
                for k in 0..<d { a[j][k] += xs[i][j] * xs[i][k] }
            }
        }
        for j in 0..<d { a[j][j] += alpha }
        let w = zip(solve(a, rhs), scale).map { $0 / $1 }
        return (w, ym - (0..<d).reduce(0.0) { $0 + w[$1] * mean[$1] })
    }

    @Test(arguments: zip([60, 30], [8, 45]))
    func fitEqualsTheClosedForm(rows: Int, width: Int) throws {
        let shape = (rows: rows, width: width)
        // 60 x 8 takes the Gram (primal) path, 30 x 45 the kernel (dual) one.
        let (data, _) = Self.synthetic(rows: shape.rows, width: shape.width, noise: 0.5, seed: 21)
        for alpha in [0.5, 7.0, 300.0] {
            let probe = try RidgeRegression(alpha: alpha).fitValues(data, standardize: true)
            let (w, b) = Self.closedForm(data, alpha: alpha)
            let top = w.map(abs).max()!
            let dw = zip(probe.weights[0], w).map { abs(Double($0) - $1) }.max()!
            #expect(dw <= 1e-3 * top, "\(shape) alpha \(alpha): max |Δw| \(dw) of \(top)")
            #expect(abs(Double(probe.bias[0]) - b) <= 1e-3 * max(1, abs(b)), "\(shape) alpha \(alpha): bias \(probe.bias[0]) vs \(b)")
        }
        // The multi-alpha path equals one fit per alpha.
        let path = try RidgeRegression.fitValues(data, alphas: [0.5, 300], standardize: true)
        #expect(path[1] == (try RidgeRegression(alpha: 300).fitValues(data, standardize: true)))
    }

    @Test func metricsByHand() {
        // ŷ = [1, 2, 3], y = [1, 2, 4]: MSE 1/3; ȳ = 7/3, Σ(y - ȳ)² = 42/9, R² = 1 - 1 / (42/9) = 11/14.
        #expect(abs(RegressionMetrics.mse(predicted: [1, 2, 3], actual: [1, 2, 4]) - 1.0 / 3) < 1e-15)
        #expect(abs(RegressionMetrics.r2(predicted: [1, 2, 3], actual: [1, 2, 4]) - 11.0 / 14) < 1e-15)
        #expect(RegressionMetrics.r2(predicted: [7 / 3, 7 / 3, 7 / 3], actual: [1, 2, 4]) == 0)
        #expect(RegressionMetrics.r2(predicted: [1, 2], actual: [5, 5]).isNaN)
    }

    @Test func experimentRecoversTheSignalAndTheControlDoesNot() throws {
        // Signal variance Σw*² (each standardized feature has variance 1), noise σ = 3:
        // the best possible R² is Σw*² / (Σw*² + 9).
        let (data, truth) = Self.synthetic(rows: 600, width: 20, noise: 3, seed: 5)
        let signal = Double(truth.reduce(0) { $0 + $1 * $1 })
        let ceiling = signal / (signal + 9)
        let r = try RegressionExperiment(folds: 5, seed: 3).run(data)
        #expect(abs(r.testR2 - ceiling) < 0.1, "test R² \(r.testR2), ceiling \(ceiling)")
        #expect(abs(r.cvR2Mean - ceiling) < 0.1 && r.cvR2Std >= 0)
        #expect(r.controlR2 < 0.05, "shuffled targets: \(r.controlR2)")
        #expect(r.baselineR2 <= 0 && r.baselineR2 > -0.1, "training mean: \(r.baselineR2)")
        #expect(r.testMSE < r.baselineMSE)
        #expect(RegressionExperiment.defaultGrid.contains(r.alpha))
        #expect(r.trainRows == 450 && r.testRows == 150 && r.testPredictions.count == 150)
        #expect(abs(r.selectivity - (r.testR2 - r.controlR2)) < 1e-12)
    }

    @Test func constantTargetAndTooFewRowsAreErrors() throws {
        let data = RegressionData(x: (0..<40).map(Float.init), rows: 20, width: 2, targets: Array(repeating: 1871, count: 20), field: "year")
        #expect(throws: ProbeError.constantTarget(field: "year", value: 1871)) { try RegressionExperiment().run(data) }
        #expect("\(ProbeError.constantTarget(field: "year", value: 1871))".contains("'year' is 1871.0 for every example"))
        let tiny = RegressionData(x: [1, 2, 3], rows: 3, width: 1, targets: [1, 2, 3])
        #expect(throws: ProbeError.self) { try RegressionExperiment().run(tiny) }
        let message = "\(ProbeError.badTarget(field: "latitude", prompts: [4, 9], found: ["'north'", "missing"]))"
        #expect(message.contains("prompt 4 ('north')") && message.contains("prompt 9 (missing)"), "\(message)")
    }
}
