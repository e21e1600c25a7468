import Formats
import Linalg

/// A `[tokens, neurons]` `.npy` matrix as ``SNMFChunks``, read from the file a chunk at a time
/// on every pass (``NumPyRowFile``): opening it reads and checks only the header, so an MPI
/// rank reads only its own block of rows (``SNMFChunkBlock``) and no rank holds the matrix.
public struct SNMFNpyStream: SNMFChunks {
    let file: NumPyRowFile
    public var source: String { file.path }
    public var hook: String? { nil }
    public var tokens: Int { file.rows }
    public var neurons: Int { file.columns }
    public var leftOut: SNMFLeftOut? { nil }

    /// - Throws: `FormatError` for an unreadable file or a bad header (not 2-D, dtype, Fortran
    ///   order, a size that does not match the shape); ``SNMFError/empty(_:)`` for no rows or columns.
    public init(npy path: String) throws {
        file = try NumPyRowFile(path: path)
        guard file.rows > 0, file.columns > 0 else { throw SNMFError.empty("\(path) has shape \(file.header.shape)") }
    }

    public func forEachChunk(rows: Int, _ body: (Int, Tensor) throws -> Void) throws {
        try forEachChunk(rows: rows, block: 0..<tokens, body)
    }

    /// Rows `block` of the matrix, numbered from 0, in chunks of at most `rows`, each read from
    /// its place in the file.
    /// - Throws: ``SNMFError/nonFiniteRow(row:source:)`` naming the row's index in the whole
    ///   matrix; `FormatError` when the file is shorter than its header says.
    func forEachChunk(rows step: Int, block: Range<Int>, _ body: (Int, Tensor) throws -> Void) throws {
        let d = neurons
        for first in stride(from: block.lowerBound, to: block.upperBound, by: max(step, 1)) {
            let range = first..<min(block.upperBound, first + max(step, 1))
            let chunk = try file.read(rows: range)
            let bad = chunk.withUnsafeBufferPointer { x in (0..<range.count).first { r in (0..<d).contains { !x[r * d + $0].isFinite } } }
            if let bad { throw SNMFError.nonFiniteRow(row: first + bad, source: source) }
            try body(first - block.lowerBound, chunk)
        }
    }
}
