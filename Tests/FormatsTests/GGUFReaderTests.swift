import Formats
import LoupeTestSupport
import Testing

/// Reading well-formed GGUF files: one written by Python's gguf.GGUFWriter (committed)
/// and ones written by the test-support writer.
@Suite struct GGUFReaderTests {
    @Test func readsPythonWrittenFile() throws {
        let gguf = try GGUFFile(path: FixtureFiles.path("tiny.gguf"))
        let expected = try FixtureFiles.json("tiny.expected.json")
        #expect(gguf.version == 3)
        #expect(gguf.alignment == 32)
        #expect(gguf.metadataKeys == expected["keys"] as! [String])
        let m = gguf.metadata
        #expect(m["general.architecture"] == .string("llama"))
        #expect(m["test.u8"] == .uint8(200))
        #expect(m["test.i8"] == .int8(-100))
        #expect(m["test.u16"] == .uint16(60000))
        #expect(m["test.i16"] == .int16(-30000))
        #expect(m["test.u32"] == .uint32(4_000_000_000))
        #expect(m["test.i32"] == .int32(-2_000_000_000))
        #expect(m["test.f32"] == .float32(0.15625))
        #expect(m["test.u64"] == .uint64(1 << 60))
        #expect(m["test.i64"] == .int64(-(1 << 60)))
        #expect(m["test.f64"] == .float64(1e-300))
        #expect(m["test.bool"]?.bool == true)
        #expect(m["test.string"]?.string == "héllo ✓")
        #expect(m["test.strings"]?.strings == ["a", "", "ĠΩ"])
        #expect(m["test.ints"]?.ints == [1, -2, 3])
        #expect(m["llama.block_count"]?.int == 2)
        #expect(m["test.f32"]?.double == 0.15625)
        #expect(m["test.string"]?.int == nil)

        let tensors = expected["tensors"] as! [String: [String: Any]]
        let offsets = expected["offsets"] as! [String: Int]
        #expect(gguf.tensorNames == ["a.f32", "b.f16", "c.q8_0", "d.q4_1"])
        for (name, info) in tensors {
            let t = try gguf.tensor(name)
            #expect(t.shape == info["shape"] as! [Int], "\(name) shape")
            #expect(gguf.tensorInfo(name)?.type.name == info["type"] as? String)
            #expect(gguf.tensorInfo(name)?.fileOffset == offsets[name], "\(name) offset")
            #expect(t.scalars.map { Int($0.bitPattern) } == info["bits"] as! [Int], "\(name) values")
        }
        #expect(gguf.tensorInfo("c.q8_0")?.dimensions == [64, 3])
        #expect(gguf.tensorInfo("c.q8_0")?.byteCount == 3 * 2 * 34)
        let raw = try gguf.rawBytes(of: "a.f32") { Array($0) }
        #expect(raw.count == 32)
    }

    @Test func roundTripsTestWriter() throws {
        let dir = TemporaryDirectory("gguf-roundtrip")
        defer { dir.remove() }
        var writer = GGUFWriter(metadata: [
            ("general.architecture", .string("llama")),
            ("general.alignment", .uint32(64)),
            ("nested", .array([.array([.uint8(1)]), .array([.uint8(2), .uint8(3)])])),
            ("empty", .array([])),
        ], tensors: [
            .f32("w", shape: [2, 3], [1, 2, 3, 4, 5, 6]),
            .f32("b", shape: [3], [-1, 0, 1]),
            GGUFWriter.TensorEntry(name: "zero", dimensions: [0, 4], type: .f32, data: []),
        ])
        writer.alignment = 64
        let path = dir.write("m.gguf", writer.build().bytes)
        let gguf = try GGUFFile(path: path)
        #expect(gguf.alignment == 64)
        #expect(gguf.dataOffset % 64 == 0)
        #expect(gguf.metadata["nested"] == .array([.array([.uint8(1)]), .array([.uint8(2), .uint8(3)])]))
        #expect(gguf.metadata["empty"] == .array([]))
        let w = try gguf.tensor("w")
        #expect(w.shape == [2, 3] && w.scalars == [1, 2, 3, 4, 5, 6])
        #expect(try gguf.tensor("b").scalars == [-1, 0, 1])
        #expect(try gguf.tensor("zero").shape == [4, 0])
        let source: any TensorSource = gguf
        #expect(source.shape(of: "w") == [2, 3])
        #expect(source.shape(of: "nope") == nil)
    }

    @Test func missingTensorListsCloseNames() throws {
        let gguf = try GGUFFile(path: FixtureFiles.path("tiny.gguf"))
        #expect {
            _ = try gguf.tensor("c.q8_1")
        } throws: { error in
            guard case .missingTensor(let file, let name, let close) = error as? FormatError else { return false }
            return file.hasSuffix("tiny.gguf") && name == "c.q8_1" && close.first == "c.q8_0"
                && "\(error)".contains("no tensor named 'c.q8_1'; close matches: 'c.q8_0'")
        }
    }

    @Test func unsupportedTypeParsesButDoesNotDequantize() throws {
        let dir = TemporaryDirectory("gguf-q2k")
        defer { dir.remove() }
        let writer = GGUFWriter(tensors: [
            GGUFWriter.TensorEntry(name: "q", dimensions: [256], type: .q2_K, data: [UInt8](repeating: 0, count: 84)),
        ])
        let gguf = try GGUFFile(path: dir.write("q2k.gguf", writer.build().bytes))
        #expect(gguf.tensorInfo("q")?.type == .q2_K)
        #expect {
            _ = try gguf.tensor("q")
        } throws: { error in
            "\(error)".contains("tensor 'q'") && "\(error)".contains("unsupported tensor type Q2_K")
        }
    }
}
