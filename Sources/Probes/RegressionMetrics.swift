/// Scores of numeric predictions, as scikit-learn defines them (`mean_squared_error`,
/// `r2_score`), accumulated in Double.
public enum RegressionMetrics {
    /// Mean squared error.
    public static func mse(predicted: [Double], actual: [Double]) -> Double {
        precondition(predicted.count == actual.count)
        guard !actual.isEmpty else { return .nan }
        return zip(predicted, actual).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(actual.count)
    }

    /// The coefficient of determination `1 - Σ(y - ŷ)² / Σ(y - ȳ)²`, ȳ the mean of `actual`
    /// (the rows scored, so predicting their own mean scores 0 and predicting any other
    /// constant, such as the training mean, scores below 0). NaN when `actual` is constant.
    public static func r2(predicted: [Double], actual: [Double]) -> Double {
        precondition(predicted.count == actual.count)
        guard !actual.isEmpty else { return .nan }
        let mean = actual.reduce(0, +) / Double(actual.count)
        let total = actual.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else { return .nan }
        let residual = zip(predicted, actual).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return 1 - residual / total
    }
}
