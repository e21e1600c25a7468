import Linalg
import Foundation

/// A fitted linear probe in the activation space it was fitted on: scores are
/// `x · weightsᵀ + bias`, with any standardization already folded into `weights` and `bias`.
///
/// A binary probe has one weight row (the score is the log-odds of `classes[1]`); a probe of
/// K > 2 classes has K rows. Its JSON form is Loupe's probe file (see ``ProbeFile``).
public struct LinearProbe: Sendable, Codable, Equatable {
    /// How scores become probabilities.
    public enum Link: String, Sendable, Codable {
        /// Logistic regression: sigmoid (binary) or softmax.
        case logistic
        /// Ridge and difference-of-means: scores only (argmax; sign for binary).
        case none
    }

    public var kind: ProbeKind
    public var link: Link
    public var classes: [String]
    /// `[rows, width]`: 1 row for two classes, else one per class.
    public var weights: [[Float]]
    public var bias: [Float]
    /// The standardization the probe was fitted under (already folded into the weights; kept
    /// to recover the standardized-space coefficients and for the outlier check).
    public var standardization: Standardization?
    /// Norm above which an input row is outside what the probe saw (the outlier rule's
    /// threshold on its training rows), if the rule was applied.
    public var outlierNorm: Float?

    public init(kind: ProbeKind, link: Link, classes: [String], weights: [[Float]], bias: [Float],
                standardization: Standardization? = nil, outlierNorm: Float? = nil) {
        self.kind = kind
        self.link = link
        self.classes = classes
        self.weights = weights
        self.bias = bias
        self.standardization = standardization
        self.outlierNorm = outlierNorm
    }

    public var width: Int { weights.first?.count ?? 0 }

    /// Builds the raw-space probe from standardized-space `weights` and `bias`.
    public init(kind: ProbeKind, link: Link, classes: [String], standardizedWeights w: [[Double]], bias b: [Double],
                standardization: Standardization?, outlierNorm: Float?) {
        let st = standardization
        var weights: [[Float]] = [], bias: [Float] = []
        for (row, b0) in zip(w, b) {
            let raw = row.indices.map { j in row[j] / Double(st?.scale[j] ?? 1) }
            let shift = raw.indices.reduce(0.0) { $0 + raw[$1] * Double(st?.mean[$1] ?? 0) }
            weights.append(raw.map { Float($0) })
            bias.append(Float(b0 - shift))
        }
        self.init(kind: kind, link: link, classes: classes, weights: weights, bias: bias,
                  standardization: st, outlierNorm: outlierNorm)
    }

    /// The coefficients in standardized space (raw weights times the scale): what
    /// scikit-learn's `coef_` is after a `StandardScaler`.
    public var standardizedWeights: [[Float]] {
        guard let st = standardization else { return weights }
        return weights.map { row in row.indices.map { row[$0] * st.scale[$0] } }
    }

    /// Scores `[rows, weights.count]` of the rows of `x` (`[rows, width]`), by one sgemm.
    public func scores(_ x: [Float], rows: Int) -> [Float] {
        let k = weights.count, d = width
        precondition(x.count == rows * d, "\(x.count) values for \(rows) rows of \(d)")
        var out = [Float](repeating: 0, count: rows * k)
        let flat = weights.flatMap { $0 }
        x.withUnsafeBufferPointer { a in
            flat.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { c in
                    if rows > 0 {
                        BLAS.gemmTransposedB(m: rows, n: k, k: d, a: a.baseAddress!, b: w.baseAddress!, c: c.baseAddress!)
                    }
                }
            }
        }
        for i in 0..<rows { for c in 0..<k { out[i * k + c] += bias[c] } }
        return out
    }

    /// Per row, the probability of each class (`classes.count` values; for `link == .none`
    /// a softmax of the scores, which orders the classes but is not calibrated).
    public func probabilities(_ x: [Float], rows: Int) -> [[Double]] {
        let s = scores(x, rows: rows), k = weights.count
        return (0..<rows).map { i in
            if k == 1 {
                let z = Double(s[i])
                let p = z >= 0 ? 1 / (1 + Foundation.exp(-z)) : Foundation.exp(z) / (1 + Foundation.exp(z))
                return [1 - p, p]
            }
            let row = (0..<k).map { Double(s[i * k + $0]) }
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        }
    }

    /// Per row, the predicted class index.
    public func predict(_ x: [Float], rows: Int) -> [Int] {
        let s = scores(x, rows: rows), k = weights.count
        return (0..<rows).map { i in
            if k == 1 { return s[i] > 0 ? 1 : 0 }
            var best = 0
            for c in 1..<k where s[i * k + c] > s[i * k + best] { best = c }
            return best
        }
    }

    /// Share of rows of `m` predicted right (its labels index this probe's classes).
    public func accuracy(_ m: FeatureMatrix) -> Double {
        guard m.rows > 0 else { return .nan }
        let p = predict(m.x, rows: m.rows)
        return Double(zip(p, m.labels).filter { $0 == $1 }.count) / Double(m.rows)
    }

    /// A unit vector in activation space along the probe's direction: the binary weight row,
    /// or for K classes the row of `className` (default the last class). For steering.
    public func direction(for className: String? = nil) -> [Float] {
        let row = weights.count == 1 ? weights[0]
            : weights[className.flatMap { classes.firstIndex(of: $0) } ?? (weights.count - 1)]
        let norm = row.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? row.map { $0 / norm } : row
    }
}

/// The kinds of probe Loupe fits.
public enum ProbeKind: String, Sendable, Codable, CaseIterable {
    /// L2-regularized logistic regression (binary or multinomial), by L-BFGS.
    case logistic
    /// Ridge regression on ±1 class targets (one column per class for K > 2), closed form.
    case ridge
    /// Difference of class means (nearest class mean for K > 2).
    case diffmeans
}
