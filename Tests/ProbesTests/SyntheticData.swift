import Foundation
import Linalg
import Probes

/// Gaussian blobs around seeded class centres: `rows` x `width`, `classes` classes,
/// centres `separation` apart on average (per coordinate std 1). Not separable when small.
func blobs(rows: Int, width: Int, classes: Int, separation: Float, seed: UInt64, words: Int? = nil) -> FeatureMatrix {
    var rng = SeededRandom(seed: seed)
    let centres = (0..<classes).map { _ in (0..<width).map { _ in rng.nextGaussian() * separation / Float(width).squareRoot() } }
    var x: [Float] = [], labels: [Int] = []
    for i in 0..<rows {
        let c = i % classes
        labels.append(c)
        for j in 0..<width { x.append(centres[c][j] + rng.nextGaussian() + (j % 7 == 0 ? 3 : 0)) }
    }
    let wordList = (0..<rows).map { i in words.map { "word\(i % $0)" } ?? "word\(i)" }
    return FeatureMatrix(x: x, rows: rows, width: width, labels: labels, classes: (0..<classes).map { "c\($0)" }, words: wordList)
}

/// scikit-learn's objective and gradient, computed plainly in Double on standardized data:
/// mean log-loss + |W|² / (2 C n). Parameters are the probe's standardized weights and an
/// intercept per output row (recovered from the raw-space bias).
func referenceGradientMax(_ probe: LinearProbe, _ m: FeatureMatrix, c: Double) -> Double {
    let st = probe.standardization ?? .identity(m.width)
    let w = probe.standardizedWeights.map { $0.map(Double.init) }
    let k = w.count, n = m.rows, d = m.width
    // Intercepts in standardized space: b_std = b_raw + w_raw·mean.
    let b = (0..<k).map { r in Double(probe.bias[r]) + (0..<d).reduce(0.0) { $0 + Double(probe.weights[r][$1]) * Double(st.mean[$1]) } }
    var gw = Array(repeating: [Double](repeating: 0, count: d), count: k), gb = [Double](repeating: 0, count: k)
    for i in 0..<n {
        let xs = (0..<d).map { (Double(m.x[i * d + $0]) - Double(st.mean[$0])) / Double(st.scale[$0]) }
        let z = (0..<k).map { r in b[r] + (0..<d).reduce(0.0) { $0 + w[r][$1] * xs[$1] } }
        var res: [Double]
        if k == 1 {
            res = [1 / (1 + exp(-z[0])) - Double(m.labels[i])]
        } else {
            let top = z.max()!
            let e = z.map { exp($0 - top) }
            let s = e.reduce(0, +)
            res = (0..<k).map { e[$0] / s - ($0 == m.labels[i] ? 1 : 0) }
        }
        for r in 0..<k {
            gb[r] += res[r] / Double(n)
            for j in 0..<d { gw[r][j] += res[r] * xs[j] / Double(n) }
        }
    }
    var top = gb.map(abs).max()!
    for r in 0..<k { for j in 0..<d { top = max(top, abs(gw[r][j] + w[r][j] / (c * Double(n)))) } }
    return top
}
