import Foundation
import Formats
import Linalg
import Testing

/// `NumPyRowFile`: blocks of rows read from their place in the file equal the whole array's
/// rows; bad headers and short files are refused at open, naming the file and what is wrong.
@Suite final class NumPyRowFileTests {
    /// Files a test made, removed when its suite instance goes (one per test).
    private var made: [String] = []
    deinit { for path in made { try? FileManager.default.removeItem(atPath: path) } }

    func temporary(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID())-\(name)").path
        made.append(path)
        return path
    }

    @Test func blocksOfRowsEqualTheWholeArraysRows() throws {
        let t = Tensor(shape: [7, 3], scalars: (0..<21).map { Float($0) * 0.5 - 3 })
        let path = temporary("x.npy")
        try NumPyArray.write(t, to: path)
        let file = try NumPyRowFile(path: path)
        #expect(file.rows == 7 && file.columns == 3 && file.header.dtype == "<f4")
        #expect(try file.read(rows: 2..<5) == Tensor(shape: [3, 3], scalars: Array(t.scalars[6..<15])))
        #expect(try file.read(rows: 6..<7).scalars == [6, 6.5, 7])
        #expect(try file.read(rows: 0..<7) == t)
        #expect(throws: FormatError.self) { try file.read(rows: 5..<8) }
    }

    /// A float64 array written byte by byte (the header as NumPy writes it).
    @Test func readsFloat64Rows() throws {
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        for v in [1.0, -2.5, 1e-3, 4.0] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        let path = temporary("f64.npy")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try NumPyRowFile(path: path).read(rows: 1..<2).scalars == [Float(1e-3), 4])
    }

    @Test func badFilesAreRefusedAtOpen() throws {
        let path = temporary("short.npy")
        var bytes = NumPyArray.bytes(Tensor(shape: [4, 2], scalars: Array(repeating: 1, count: 8)))
        bytes.removeLast(5)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let short = try #require(throws: FormatError.self) { try NumPyRowFile(path: path) }
        #expect("\(short)".contains("needs 32 bytes, the file holds 27") && "\(short)".contains(path), "\(short)")

        let cube = temporary("cube.npy")
        try NumPyArray.write(Tensor(shape: [2, 2, 2], scalars: Array(repeating: 0, count: 8)), to: cube)
        let notMatrix = try #require(throws: FormatError.self) { try NumPyRowFile(path: cube) }
        #expect("\(notMatrix)".contains("[2, 2, 2] is not a [rows, columns] matrix"), "\(notMatrix)")

        let magic = temporary("magic.npy")
        try Data([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: magic))
        #expect(throws: FormatError.self) { try NumPyRowFile(path: magic) }
        let tiny = temporary("tiny.npy")
        try Data([0x93]).write(to: URL(fileURLWithPath: tiny))
        #expect(throws: FormatError.self) { try NumPyRowFile(path: tiny) }
        #expect(throws: FormatError.self) { try NumPyRowFile(path: temporary("missing.npy")) }

        var fortran = NumPyArray.bytes(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        let word = Array("False".utf8)
        let at = try #require((0..<(fortran.count - 5)).first { Array(fortran[$0..<($0 + 5)]) == word })
        fortran.replaceSubrange(at..<(at + 5), with: Array("True ".utf8))
        let f = temporary("fortran.npy")
        try Data(fortran).write(to: URL(fileURLWithPath: f))
        let order = try #require(throws: FormatError.self) { try NumPyRowFile(path: f) }
        #expect("\(order)".contains("Fortran-order"), "\(order)")
    }
}
