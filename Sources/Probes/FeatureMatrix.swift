import Linalg

/// Examples as rows: a dense `[rows, width]` float32 matrix with one class index per row,
/// the class names, and per row the word the label hinges on (for the control task) and the
/// prompt it came from.
public struct FeatureMatrix: Sendable {
    /// Row-major `[rows, width]`.
    public var x: [Float]
    public var rows: Int
    public var width: Int
    /// Per row: index into ``classes``.
    public var labels: [Int]
    /// Class names, sorted; label `i` means `classes[i]`.
    public var classes: [String]
    /// Per row: the word type for the control task ("" when none).
    public var words: [String]
    /// Per row: the prompt's index in its dataset.
    public var prompts: [Int]

    public init(x: [Float], rows: Int, width: Int, labels: [Int], classes: [String], words: [String]? = nil,
                prompts: [Int]? = nil) {
        precondition(x.count == rows * width && labels.count == rows, "matrix \(x.count) for \(rows)x\(width), \(labels.count) labels")
        self.x = x
        self.rows = rows
        self.width = width
        self.labels = labels
        self.classes = classes
        self.words = words ?? Array(repeating: "", count: rows)
        self.prompts = prompts ?? Array(0..<rows)
    }

    /// Builds a matrix from string labels (classes sorted by name).
    public init(x: [Float], rows: Int, width: Int, labelNames: [String], words: [String]? = nil, prompts: [Int]? = nil) {
        let classes = Array(Set(labelNames)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        self.init(x: x, rows: rows, width: width, labels: labelNames.map { index[$0]! }, classes: classes,
                  words: words, prompts: prompts)
    }

    /// The rows `indices`, in that order (labels, words and prompts follow).
    public func subset(_ indices: [Int]) -> FeatureMatrix {
        var out = [Float](repeating: 0, count: indices.count * width)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (to, from) in indices.enumerated() {
                    (dst.baseAddress! + to * width).update(from: src.baseAddress! + from * width, count: width)
                }
            }
        }
        return FeatureMatrix(x: out, rows: indices.count, width: width, labels: indices.map { labels[$0] },
                             classes: classes, words: indices.map { words[$0] }, prompts: indices.map { prompts[$0] })
    }

    /// The same rows with other labels (same class names).
    public func relabelled(_ newLabels: [Int]) -> FeatureMatrix {
        var m = self
        m.labels = newLabels
        return m
    }

    /// Examples per class.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classes.count)
        for l in labels { c[l] += 1 }
        return c
    }

    /// Each row's Euclidean norm (one BLAS call per row).
    public func rowNorms() -> [Float] {
        x.withUnsafeBufferPointer { p in
            (0..<rows).map { BLAS.norm(n: width, x: p.baseAddress! + $0 * width) }
        }
    }
}
