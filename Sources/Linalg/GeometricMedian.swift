/// The geometric median of a set of rows: the point minimizing the sum of Euclidean distances
/// to them (robust to outlying rows, unlike the mean). Computed by Weiszfeld's iterations in
/// Double, starting at the mean: `y ← Σ wᵢ xᵢ / Σ wᵢ` with `wᵢ = 1 / max(|xᵢ - y|, floor)`,
/// as SAELens's `compute_geometric_median` (its `b_dec_init_method = "geometric_median"`).
///
/// It stops after `maxIterations` (default 100, SAELens's `maxiter`) or once an iteration
/// lowers the objective `Σ |xᵢ - y|` by at most `tolerance` (default 1e-12) times its value
/// (the objective is flat at the minimum: a relative change of t leaves the point about √t
/// of the spread away, so the default is tight; SAELens runs its 100 iterations with 1e-20).
/// `floor` is 1e-10 times the mean distance, so a row the estimate lands on does not divide by zero.
public enum GeometricMedian {
    /// The median and how the iterations ended.
    public struct Result: Sendable, Equatable {
        /// The median, `[width]`.
        public var median: [Double]
        /// Iterations run.
        public var iterations: Int
        /// `Σ |xᵢ - median|`.
        public var objective: Double
        /// Whether the tolerance was met before the cap.
        public var converged: Bool
    }

    /// The geometric median of the `rows` rows of `values` (row-major `[rows, width]`).
    /// - Precondition: `rows >= 1`, `width >= 1`, `values.count == rows * width`.
    public static func of(_ values: [Float], rows n: Int, width d: Int, maxIterations: Int = 100,
                          tolerance: Double = 1e-12) -> Result {
        precondition(n >= 1 && d >= 1 && values.count == n * d, "GeometricMedian: \(values.count) values for [\(n), \(d)]")
        let x = values.map(Double.init)
        var y = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { y[j] += x[r * d + j] } }
        for j in 0..<d { y[j] /= Double(n) }
        func distances(_ y: [Double]) -> [Double] {
            (0..<n).map { r in
                var s = 0.0
                for j in 0..<d { let e = x[r * d + j] - y[j]; s += e * e }
                return s.squareRoot()
            }
        }
        var dist = distances(y)
        var objective = dist.reduce(0, +)
        var iterations = 0, converged = false
        while iterations < maxIterations {
            iterations += 1
            let floor = max(1e-10 * objective / Double(n), .leastNormalMagnitude)
            var next = [Double](repeating: 0, count: d), total = 0.0
            for r in 0..<n {
                let w = 1 / max(dist[r], floor)
                total += w
                for j in 0..<d { next[j] += w * x[r * d + j] }
            }
            for j in 0..<d { next[j] /= total }
            let nextDist = distances(next)
            let nextObjective = nextDist.reduce(0, +)
            let improvement = objective - nextObjective
            if nextObjective <= objective { (y, dist, objective) = (next, nextDist, nextObjective) }
            if improvement <= tolerance * nextObjective {
                converged = true
                break
            }
        }
        return Result(median: y, iterations: iterations, objective: objective, converged: converged)
    }
}
