import Formats
import Foundation

/// Y (`[k, n]` float32, row-major) in a `.npy` file that several MPI ranks write together on a
/// shared file system: rank 0 creates it at its full size (``create(at:rank:tokens:)``), then
/// each rank writes its own columns (``write(_:rank:block:tokens:to:)``, k seeks), so no
/// rank holds more of Y than its block. `numpy.load` reads it as one array.
public enum SNMFCodesFile {
    /// The file's name in a report folder.
    public static let name = "codes.npy"

    /// Creates `path` holding the header of a `[k, n]` float32 array and zeros.
    /// - Throws: ``SNMFError/badFile(path:reason:)`` when it cannot be written.
    public static func create(at path: String, rank k: Int, tokens n: Int) throws {
        let header = NumPyArray.header(shape: [k, n])
        guard FileManager.default.createFile(atPath: path, contents: Data(header)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw SNMFError.badFile(path: path, reason: "cannot create the codes file")
        }
        defer { try? handle.close() }
        do { try handle.truncate(atOffset: UInt64(header.count + 4 * k * n)) } catch {
            throw SNMFError.badFile(path: path, reason: "cannot size the codes file to \(header.count + 4 * k * n) bytes: \(error.localizedDescription)")
        }
    }

    /// Writes `codes` (`[k, block.count]`), columns `block` of Y, into the file `path` made by
    /// ``create(at:rank:tokens:)``.
    /// - Throws: ``SNMFError/badFile(path:reason:)`` when the file is missing, of another
    ///   shape, or cannot be written.
    public static func write(_ codes: [Float], rank k: Int, block: Range<Int>, tokens n: Int, to path: String) throws {
        let header = try NumPyHeader.read(path: path)
        guard header.shape == [k, n], header.width == 4, codes.count == k * block.count, block.upperBound <= n else {
            throw SNMFError.badFile(path: path, reason: "holds a \(header.shape) array of \(header.dtype); expected [\(k), \(n)] float32 for columns \(block)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw SNMFError.badFile(path: path, reason: "cannot open for writing") }
        defer { try? handle.close() }
        let c = block.count
        do {
            for i in 0..<k {
                try handle.seek(toOffset: UInt64(header.dataOffset + 4 * (i * n + block.lowerBound)))
                var bytes = Data(capacity: 4 * c)
                for j in 0..<c { withUnsafeBytes(of: codes[i * c + j].bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                try handle.write(contentsOf: bytes)
            }
        } catch {
            throw SNMFError.badFile(path: path, reason: "cannot write columns \(block): \(error.localizedDescription)")
        }
    }
}
