import Foundation
import Formats
import LoupeTestSupport
import Testing

/// GGUF metadata arrays are held as typed arrays: memory stays within a small constant factor
/// of the bytes in the file (a byte array used to cost about 40 bytes of memory per byte).
@Suite struct GGUFArrayMemoryTests {
    @Test func bigArraysCostAboutWhatTheFileHolds() throws {
        let dir = TemporaryDirectory("gguf-arrays")
        defer { dir.remove() }
        let n = 1 << 20
        let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let words = (0..<50_000).map { "w\($0)" }
        let writer = GGUFWriter(metadata: [
            ("general.architecture", .string("llama")),
            ("blob", .array(GGUFArray(storage: .uint8(bytes)))),
            ("floats", .array(GGUFArray(storage: .float32((0..<4096).map { Float($0) / 8 })))),
            ("words", .array(GGUFArray(storage: .string(words)))),
            ("flags", .array(GGUFArray(storage: .bool((0..<1000).map { $0 % 3 == 0 })))),
        ])
        let path = dir.write("arrays.gguf", writer.build().bytes)
        let gguf = try GGUFFile(path: path)

        let blob = try #require(gguf.metadata["blob"]?.array)
        #expect(blob.count == n && blob.storageBytes == n)          // one byte of memory per byte of file
        #expect(blob.storage == .uint8(bytes))
        #expect(blob[5] == .uint8(bytes[5]) && gguf.metadata["blob"]?.typeName == "array[uint8]")
        let strings = try #require(gguf.metadata["words"]?.array)
        // In the file: 8 length bytes plus the text; in memory: one 16-byte inline String.
        #expect(strings.storageBytes == 16 * words.count && gguf.metadata["words"]?.strings == words)
        #expect(gguf.metadata["floats"]?.doubles == (0..<4096).map { Double($0) / 8 })
        #expect(gguf.metadata["flags"]?.array?.storageBytes == 1000)
        #expect(gguf.metadata["flags"]?.array?[3] == .bool(true))
        // A value is no longer a box per element: an enum whose largest payload is a String.
        #expect(MemoryLayout<GGUFValue>.size <= 17)
    }

    @Test func arraysBuiltFromValuesAreStoredByType() {
        #expect(GGUFArray([.int32(1), .int32(-2)]).storage == .int32([1, -2]))
        #expect(GGUFArray([.string("a"), .uint8(1)]).storage == .mixed([.string("a"), .uint8(1)]))
        #expect(GGUFArray([.int32(1), .int32(-2)]).ints == [1, -2])
        #expect(GGUFArray([]).strings == [] && GGUFArray([]).ints == [])
        #expect(GGUFValue.array([.uint64(UInt64.max)]).ints == nil)
    }
}
