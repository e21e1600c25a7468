/// The rule for the model's rare huge-norm rows.
///
/// In SmolLM2 (and most decoder LMs) the residual stream at the first position, the
/// attention sink, grows far beyond every other row: measured on the 360 sentiment prompts,
/// the position-0 row of `hook_resid_post` is 117–120x the median row norm at block 15 and
/// about 70x at block 22 (only 4–10x in blocks 2–8 and at block 29), while every other
/// position stays within 3.5x. One such row dominates a feature's variance, so
/// standardization (and a probe fitted on it) would be tuned to it. The rule: a row whose
/// Euclidean norm exceeds `factor` times the median norm of the rows is an outlier; it is left
/// out of fitting and evaluation and reported. The default factor, 10, sits well above
/// ordinary rows and catches the ~100x sinks; milder sink rows (4–10x) stay in.
public struct OutlierRule: Sendable, Codable, Equatable {
    public var factor: Float

    public init(factor: Float = 10) { self.factor = factor }

    /// The norm above which a row is an outlier: `factor` x the median of `norms`.
    public func threshold(norms: [Float]) -> Float {
        guard !norms.isEmpty else { return .infinity }
        let sorted = norms.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return factor * median
    }

    /// Indices of the rows of `m` that are outliers, judged against `threshold`.
    public func outliers(_ m: FeatureMatrix, threshold: Float) -> [Int] {
        m.rowNorms().enumerated().filter { $0.element > threshold }.map(\.offset)
    }
}
