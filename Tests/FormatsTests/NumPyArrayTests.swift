import Foundation
import Formats
import Linalg
import LoupeTestSupport
import Testing

/// `.npy` files written by NumPy (scripts/fixtures/formats/make_npy_fixtures.py).
@Suite struct NumPyArrayTests {
    func path(_ name: String) -> String { TestFiles.fixtures.appendingPathComponent("formats/npy/\(name)").path }
    let expected = (0..<24).map { Float($0) / 7 }

    @Test func readsWhatNumPyWrote() throws {
        let f32 = try NumPyArray.read(path: path("f32-2x3x4.npy"))
        #expect(f32.shape == [2, 3, 4] && f32.scalars == expected)
        let f64 = try NumPyArray.read(path: path("f64-2x3x4.npy"))
        #expect(f64.shape == [2, 3, 4] && TestFiles.maxAbsDiff(f64.scalars, expected) < 1e-7)
        let f16 = try NumPyArray.read(path: path("f16-2x3x4.npy"))
        #expect(TestFiles.maxAbsDiff(f16.scalars, expected) < 2e-3)
        #expect(try NumPyArray.read(path: path("f32-vector.npy")) == Tensor(shape: [3], scalars: [1.5, -2, 3.25]))
    }

    @Test func writeThenReadIsExact() throws {
        let t = Tensor(shape: [3, 2], scalars: [1, -0, .pi, 1e-30, -7, 42])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try NumPyArray.write(t, to: file)
        #expect(try NumPyArray.read(path: file) == t)
        #expect(NumPyArray.bytes(t).count % 16 == (24 + 64) % 16)  // header padded to 64 bytes
    }

    @Test func unsupportedFilesSayWhy() throws {
        #expect(throws: FormatError.self) { try NumPyArray.read(path: path("i32.npy")) }
        do { _ = try NumPyArray.read(path: path("fortran.npy")); Issue.record("should fail") } catch {
            #expect("\(error)".contains("Fortran"))
        }
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-cut-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: truncated) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path("f32-2x3x4.npy")))
        try whole.prefix(whole.count - 4).write(to: URL(fileURLWithPath: truncated))
        do { _ = try NumPyArray.read(path: truncated); Issue.record("should fail") } catch {
            #expect("\(error)".contains("the file holds 92"), "\(error)")
        }
    }
}
