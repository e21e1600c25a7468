/// Per-feature mean and scale (population standard deviation, as scikit-learn's
/// `StandardScaler`; 1 for a constant feature). Probes fold it into their weights, so the
/// data is never copied: `w·((x - mean) / scale) = (w / scale)·x - (w / scale)·mean`.
public struct Standardization: Sendable, Codable, Equatable {
    public var mean: [Float]
    public var scale: [Float]

    /// The identity transform for `width` features.
    public static func identity(_ width: Int) -> Standardization {
        Standardization(mean: Array(repeating: 0, count: width), scale: Array(repeating: 1, count: width))
    }

    public init(mean: [Float], scale: [Float]) {
        self.mean = mean
        self.scale = scale
    }

    /// Mean and scale of the columns of `m` (accumulated in Double, row by row).
    public init(fitting m: FeatureMatrix) {
        let d = m.width
        var sum = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        m.x.withUnsafeBufferPointer { p in
            sum.withUnsafeMutableBufferPointer { s in
                sq.withUnsafeMutableBufferPointer { q in
                    for i in 0..<m.rows {
                        let row = p.baseAddress! + i * d
                        for j in 0..<d { let v = Double(row[j]); s[j] += v; q[j] += v * v }
                    }
                }
            }
        }
        let n = Double(max(m.rows, 1))
        mean = sum.map { Float($0 / n) }
        scale = (0..<d).map { j in
            let variance = max(0, sq[j] / n - (sum[j] / n) * (sum[j] / n))
            let s = variance.squareRoot()
            return s > 1e-12 * max(1, abs(sum[j] / n)) ? Float(s) : 1
        }
    }
}
