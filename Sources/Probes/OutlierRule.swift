/// The rule for the model's rare huge-norm rows.
///
/// In SmolLM2 (and most decoder LMs) the residual stream at the first position, the
/// attention sink, and at a few other tokens has a norm around 100x the median row's. One
/// such row dominates a feature's variance, so standardization (and any probe fitted on it)
/// would be tuned to it. The rule: a row whose Euclidean norm exceeds `factor` times the
/// median norm of the training rows is an outlier; it is left out of fitting and evaluation
/// and the count is reported. The default factor, 10, is far above the spread of ordinary
/// rows (within about 3x of the median) and far below the sinks' 100x.
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
