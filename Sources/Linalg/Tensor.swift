/// A dense, row-major Float32 tensor: a shape and its scalars.
///
/// `Tensor` is a value type backed by a Swift array, so copies are cheap until written
/// (copy-on-write). Hot loops take the buffer once with ``withUnsafeMutableBufferPointer(_:)``
/// rather than indexing element by element.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first (`[rows, columns]` for a matrix).
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// A tensor with the given shape and scalars. The counts must agree.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, given \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { scalars.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same scalars under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Row `i` of a rank-2 tensor.
    public func row(_ i: Int) -> [Float] {
        precondition(rank == 2 && i >= 0 && i < shape[0], "row \(i) of tensor with shape \(shape)")
        let w = shape[1]
        return Array(scalars[(i * w)..<((i + 1) * w)])
    }

    /// Rows `range` of a rank-2 tensor, as a new `[range.count, columns]` tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank == 2 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows \(range) of tensor with shape \(shape)")
        let w = shape[1]
        return Tensor(shape: [range.count, w],
                      scalars: Array(scalars[(range.lowerBound * w)..<(range.upperBound * w)]))
    }

    /// Rows `indices` of a rank-2 tensor, in that order, as a new `[indices.count, columns]` tensor.
    public func rows(at indices: [Int]) -> Tensor {
        precondition(rank == 2 && indices.allSatisfy { $0 >= 0 && $0 < shape[0] }, "rows \(indices) of tensor with shape \(shape)")
        let w = shape[1]
        var out = [Float]()
        out.reserveCapacity(indices.count * w)
        for i in indices { out += scalars[(i * w)..<((i + 1) * w)] }
        return Tensor(shape: [indices.count, w], scalars: out)
    }

    /// Calls `body` with the scalars' storage.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the scalars' storage, writable.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(6).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(scalars.count > 6 ? ", ..." : "")])"
    }
}
