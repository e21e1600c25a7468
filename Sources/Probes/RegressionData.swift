/// Examples for a numeric probe: one activation row per prompt (a ``FeatureMatrix`` whose
/// labels are unused) and the prompt's value of a numeric metadata field (a latitude, a year).
public struct RegressionData: Sendable {
    /// The rows; ``FeatureMatrix/prompts`` and ``FeatureMatrix/words`` follow them.
    public var matrix: FeatureMatrix
    /// One value per row.
    public var targets: [Double]
    /// The metadata field the values come from.
    public var field: String

    /// - Precondition: one target per row.
    public init(matrix: FeatureMatrix, targets: [Double], field: String) {
        precondition(matrix.rows == targets.count, "\(matrix.rows) rows, \(targets.count) targets")
        self.matrix = matrix
        self.targets = targets
        self.field = field
    }

    /// Rows `x` (`[rows, width]`) with their values; no words, prompts numbered from 0.
    public init(x: [Float], rows: Int, width: Int, targets: [Double], field: String = "y") {
        self.init(matrix: FeatureMatrix(x: x, rows: rows, width: width, labels: Array(repeating: 0, count: rows), classes: [field]),
                  targets: targets, field: field)
    }

    public var rows: Int { matrix.rows }

    /// The rows `indices`, in that order.
    public func subset(_ indices: [Int]) -> RegressionData {
        RegressionData(matrix: matrix.subset(indices), targets: indices.map { targets[$0] }, field: field)
    }

    /// The same rows with other values.
    public func retargeted(_ values: [Double]) -> RegressionData {
        RegressionData(matrix: matrix, targets: values, field: field)
    }
}
