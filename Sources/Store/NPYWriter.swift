import Foundation
import Linalg

/// Writes a 2-D array as a NumPy `.npy` file (format version 1.0), streaming rows.
///
/// Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian UInt16 header length,
/// then an ASCII dict `{'descr': '<f4', 'fortran_order': False, 'shape': (R, W), }` padded
/// with spaces and a newline so the data starts at a multiple of 64 bytes; then the rows in
/// C order. `numpy.load` reads it as is.
public final class NPYWriter {
    let handle: FileHandle
    let path: String
    let dtype: ActivationDType
    let expected: Int
    var written = 0

    /// Creates (or truncates) `path` for a `[rows, width]` array of `dtype`.
    /// - Throws: ``StoreError/notFound(path:what:)`` when the file cannot be created.
    public init(path: String, rows: Int, width: Int, dtype: ActivationDType = .f32) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw StoreError.notFound(path: path, what: "writable location for the .npy file")
        }
        handle = h
        self.path = path
        self.dtype = dtype
        expected = rows * width
        handle.write(NPYWriter.header(descr: dtype.npyDescriptor, shape: [rows, width]))
    }

    /// The header bytes for an array of `descr` and `shape`.
    public static func header(descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }

    /// Appends rows (a `[n, width]` tensor) in the file's dtype.
    public func append(_ rows: Tensor) {
        handle.write(rows.withUnsafeBufferPointer { dtype.encode($0) })
        written += rows.count
    }

    /// Closes the file.
    /// - Throws: ``StoreError/corruptRow(path:row:reason:)`` if fewer or more scalars were
    ///   written than the header promised.
    public func close() throws {
        try handle.close()
        guard written == expected else {
            throw StoreError.corruptRow(path: path, row: "data", reason: "wrote \(written) values, header says \(expected)")
        }
    }
}
