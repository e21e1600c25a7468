/// The difference-of-means baseline: for two classes the direction `mean₁ - mean₀` with the
/// threshold halfway between the class means; for more, the nearest class mean
/// (score_k = mean_k·x - |mean_k|²/2). Means are taken in standardized space when asked.
public enum DifferenceOfMeans {
    public static func fit(_ m: FeatureMatrix, standardization: Standardization?) -> LinearProbe {
        let d = m.width, k = m.classes.count
        let st = standardization ?? .identity(d)
        var sums = Array(repeating: [Double](repeating: 0, count: d), count: k)
        let counts = m.classCounts
        m.x.withUnsafeBufferPointer { p in
            for i in 0..<m.rows {
                let row = p.baseAddress! + i * d
                let l = m.labels[i]
                sums[l].withUnsafeMutableBufferPointer { s in
                    for j in 0..<d { s[j] += (Double(row[j]) - Double(st.mean[j])) / Double(st.scale[j]) }
                }
            }
        }
        let means = (0..<k).map { c in sums[c].map { $0 / Double(max(counts[c], 1)) } }
        let w: [[Double]], b: [Double]
        if k == 2 {
            let dir = (0..<d).map { means[1][$0] - means[0][$0] }
            let mid = (0..<d).reduce(0.0) { $0 + dir[$1] * (means[0][$1] + means[1][$1]) / 2 }
            (w, b) = ([dir], [-mid])
        } else {
            (w, b) = (means, means.map { mu in -0.5 * mu.reduce(0) { $0 + $1 * $1 } })
        }
        return LinearProbe(kind: .diffmeans, link: .none, classes: m.classes, standardizedWeights: w, bias: b,
                           standardization: standardization, outlierNorm: nil)
    }
}
