import Foundation
import Linalg

/// A 2-D `.npy` matrix read a block of rows at a time, never whole: the header (shape, dtype,
/// C order, the file's size) is checked when it is opened, and each read seeks to its rows.
/// One MPI rank, or a streamed fit, reads only the rows it needs.
public struct NumPyRowFile: Sendable {
    public let path: String
    public let header: NumPyHeader
    /// Rows and row width of the matrix.
    public var rows: Int { header.shape[0] }
    public var columns: Int { header.shape[1] }

    /// Opens `path` and checks its header.
    /// - Throws: ``FormatError`` for an unreadable file, a bad header, a shape that is not
    ///   2-D or a size that does not match the shape.
    public init(path: String) throws {
        let header = try NumPyHeader.read(path: path)
        guard header.shape.count == 2 else {
            throw FormatError.invalidValue(.init(file: path, object: "header", offset: 10),
                                           reason: "shape \(header.shape) is not a [rows, columns] matrix")
        }
        (self.path, self.header) = (path, header)
    }

    /// Rows `range` as a `[range.count, columns]` float32 tensor.
    /// - Throws: ``FormatError`` for rows outside the matrix or a file that is shorter than
    ///   its header says (changed since it was opened), naming the rows and the offset.
    public func read(rows range: Range<Int>) throws -> Tensor {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw FormatError.invalidValue(.init(file: path, object: "rows", offset: header.dataOffset),
                                           reason: "rows \(range.lowerBound)..<\(range.upperBound) are outside the matrix's \(rows)")
        }
        let rowBytes = columns * header.width
        let offset = header.dataOffset + range.lowerBound * rowBytes, length = range.count * rowBytes
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FormatError.io(file: path, reason: "cannot open for reading") }
        defer { try? handle.close() }
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(offset))
            data = try handle.read(upToCount: length) ?? Data()
        } catch {
            throw FormatError.io(file: path, reason: "cannot read rows \(range.lowerBound)..<\(range.upperBound) at byte \(offset): \(error.localizedDescription)")
        }
        guard data.count == length else {
            throw FormatError.truncated(.init(file: path, object: "rows \(range.lowerBound)..<\(range.upperBound)", offset: offset),
                                        needed: length, remaining: data.count, fileSize: offset + data.count)
        }
        let scalars = data.withUnsafeBytes { NumPyHeader.decode($0, from: 0, count: range.count * columns, width: header.width) }
        return Tensor(shape: [range.count, columns], scalars: scalars)
    }
}
