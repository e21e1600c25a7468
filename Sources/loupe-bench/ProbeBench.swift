// loupe-bench --probes: fitting L2 logistic regression (C = 1, tol = 1e-4, like scikit-learn's
// defaults) on 20,000 x 576 float32 rows, binary and 10 classes, both linearly separable
// (labels from a random linear teacher). With --probes-data DIR it fits the x.npy / y2.npy /
// y10.npy that bench/probes_sklearn.py wrote and timed, so both sides fit the same rows.
import Foundation
import Formats
import Linalg
import Probes

func probeBenchmark(data: String?, report: (String, Double, String) -> Void) throws {
    let n = 20_000, d = 576
    var x: [Float], y2: [Int], y10: [Int]
    if let data {
        x = try NumPyArray.read(path: data + "/x.npy").scalars
        y2 = try NumPyArray.read(path: data + "/y2.npy").scalars.map { Int($0) }
        y10 = try NumPyArray.read(path: data + "/y10.npy").scalars.map { Int($0) }
        precondition(x.count == n * d && y2.count == n && y10.count == n, "unexpected shapes in \(data)")
    } else {
        var rng = SeededRandom(seed: 0)
        x = (0..<(n * d)).map { _ in rng.nextGaussian() }
        let teacher = Tensor(shape: [10, d], scalars: (0..<(10 * d)).map { _ in rng.nextGaussian() })
        let scores = Tensor(shape: [n, d], scalars: x).matmulTransposed(teacher).scalars
        y2 = (0..<n).map { scores[$0 * 10] > 0 ? 1 : 0 }
        y10 = (0..<n).map { i in (0..<10).max { scores[i * 10 + $0] < scores[i * 10 + $1] }! }
    }
    print("probes: \(n) x \(d) float32, \(data.map { "data from " + $0 } ?? "generated data"), threads \(BLAS.threadCount)")
    for (name, labels, k) in [("binary", y2, 2), ("10 classes", y10, 10)] {
        let m = FeatureMatrix(x: x, rows: n, width: d, labels: labels, classes: (0..<k).map(String.init))
        var last: (probe: LinearProbe, result: LBFGS.Result)? = nil
        let secs = try time(runs: 5) {
            last = try LogisticRegression(c: 1, tolerance: 1e-4, maxIterations: 10_000).fit(m, standardization: nil)
        }
        let accuracy = last!.probe.accuracy(m)
        let key = k == 2 ? "probe_logistic_binary_seconds" : "probe_logistic_10class_seconds"
        report(key, secs, String(format: "logistic %@: %.3f s median of 5, %d iterations, %d evaluations, max|g| %.1e, train accuracy %.4f",
                                 name, secs, last!.result.iterations, last!.result.evaluations, last!.result.gradientMax, accuracy))
    }

    // What `loupe probe train` does per hook, 30 times: a 1,000-example dataset with a noisy
    // linear signal, split, 5-fold CV, the fit and the control task (labels per word type).
    var rng = SeededRandom(seed: 2)
    let rows = 1_000, layers = 30
    let words = (0..<rows).map { "w\($0 % 100)" }
    let sweep = try time(runs: 1) {
        for _ in 0..<layers {
            let xs = (0..<(rows * d)).map { _ in rng.nextGaussian() }
            let labels = (0..<rows).map { i in xs[i * d] + 0.5 * xs[i * d + 1] + rng.nextGaussian() > 0 ? 1 : 0 }
            let m = FeatureMatrix(x: xs, rows: rows, width: d, labels: labels, classes: ["0", "1"], words: words)
            _ = try ProbeExperiment().run(m)
        }
    }
    report("probe_sweep_30x1000_seconds", sweep, String(format:
        "probe sweep: %d layers x %d examples x %d features (split, 5-fold CV, fit, control task): %.2f s", layers, rows, d, sweep))
}
