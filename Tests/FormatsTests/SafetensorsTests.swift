import Formats
import Foundation
import LoupeTestSupport
import Testing

@Suite struct SafetensorsTests {
    static let f32Values: [Float] = [1, -2, 0.5, 3.25, -0.0, 1e-3]
    // F16 bits for 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -0.
    static let f16Bits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000]
    static let f16Values: [Float] = [1, -2, 0.5, 65504, Float(sign: .plus, exponent: -24, significand: 1), -0.0]
    // BF16 bits for 1, -2, 3.140625, 1e38-ish.
    static let bf16Bits: [UInt16] = [0x3F80, 0xC000, 0x4049, 0x7E96]

    static func entries() -> [SafetensorsWriter.Entry] {
        [
            .init(name: "a.f32", dtype: "F32", shape: [2, 3], data: SafetensorsWriter.f32(f32Values)),
            .init(name: "b.f16", dtype: "F16", shape: [3, 2], data: SafetensorsWriter.u16(f16Bits)),
            .init(name: "c.bf16", dtype: "BF16", shape: [4], data: SafetensorsWriter.u16(bf16Bits)),
            .init(name: "d.scalar", dtype: "F32", shape: [], data: SafetensorsWriter.f32([7])),
            .init(name: "e.ids", dtype: "I64", shape: [2], data: [UInt8](repeating: 0, count: 16)),
        ]
    }

    static func error(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> FormatError? {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let e as FormatError {
            return e
        } catch {
            Issue.record("not a FormatError: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test func singleFileAllFloatDtypes() throws {
        let dir = TemporaryDirectory("st-single")
        defer { dir.remove() }
        dir.write("model.safetensors", SafetensorsWriter.bytes(Self.entries(), metadata: ["format": "pt"]))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        #expect(ckpt.tensorNames == ["a.f32", "b.f16", "c.bf16", "d.scalar", "e.ids"])
        #expect(ckpt.metadata == ["format": "pt"])
        let a = try ckpt.tensor("a.f32")
        #expect(a.shape == [2, 3] && a.scalars.map(\.bitPattern) == Self.f32Values.map(\.bitPattern))
        let b = try ckpt.tensor("b.f16")
        #expect(b.shape == [3, 2] && b.scalars.map(\.bitPattern) == Self.f16Values.map(\.bitPattern))
        let c = try ckpt.tensor("c.bf16")
        #expect(c.scalars == Self.bf16Bits.map { Float(bitPattern: UInt32($0) << 16) })
        #expect(c.scalars[2] == 3.140625)
        #expect(try ckpt.tensor("d.scalar").shape == [])
        #expect(try ckpt.tensor("d.scalar").scalars == [7])
        #expect(ckpt.shape(of: "e.ids") == [2])
        let e = Self.error { _ = try ckpt.tensor("e.ids") }
        guard case .unsupportedTensorType(_, "I64")? = e else { Issue.record("I64"); return }
        let m = Self.error { _ = try ckpt.tensor("a.f33") }
        guard case .missingTensor(_, "a.f33", let close)? = m else { Issue.record("missing"); return }
        #expect(close.first == "a.f32")
    }

    @Test func shardedCheckpoint() throws {
        let dir = TemporaryDirectory("st-sharded")
        defer { dir.remove() }
        let all = Self.entries()
        dir.write("model-00001-of-00002.safetensors", SafetensorsWriter.bytes(Array(all[0..<2])))
        dir.write("model-00002-of-00002.safetensors", SafetensorsWriter.bytes(Array(all[2..<4])))
        let index = """
        {"metadata": {"total_size": 50}, "weight_map": {"a.f32": "model-00001-of-00002.safetensors",
         "b.f16": "model-00001-of-00002.safetensors", "c.bf16": "model-00002-of-00002.safetensors",
         "d.scalar": "model-00002-of-00002.safetensors"}}
        """
        dir.write("model.safetensors.index.json", Array(index.utf8))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        #expect(ckpt.files.count == 2)
        #expect(ckpt.tensorNames == ["a.f32", "b.f16", "c.bf16", "d.scalar"])
        #expect(try ckpt.tensor("c.bf16").scalars[0] == 1)
        #expect(try ckpt.tensor("a.f32").scalars == Self.f32Values)
        let source: any TensorSource = ckpt
        #expect(source.shape(of: "b.f16") == [3, 2])

        // A missing shard is named.
        try FileManager.default.removeItem(atPath: dir.path + "/model-00002-of-00002.safetensors")
        let e = Self.error { _ = try SafetensorsCheckpoint(directory: dir.path) }
        guard case .missingFile(let l, let path)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(path.hasSuffix("model-00002-of-00002.safetensors") && l.file.hasSuffix("index.json"))
        #expect(e!.description.contains("model-00002-of-00002.safetensors' does not exist"))

        // The same tensor in two shards is named.
        dir.write("model-00002-of-00002.safetensors", SafetensorsWriter.bytes([all[0]]))
        let d = Self.error { _ = try SafetensorsCheckpoint(directory: dir.path) }
        guard case .duplicateName(_, "a.f32")? = d else { Issue.record("\(String(describing: d))"); return }
    }

    @Test func shapeAndByteSizeMismatch() {
        let dir = TemporaryDirectory("st-bad")
        defer { dir.remove() }
        let wrongShape = SafetensorsWriter.bytes([
            .init(name: "w", dtype: "F32", shape: [2, 4], data: SafetensorsWriter.f32(Self.f32Values)),
        ])
        let path = dir.write("shape.safetensors", wrongShape)
        let e = Self.error { _ = try SafetensorsCheckpoint(path: path) }
        guard case .invalidValue(let l, let reason)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(l.object == "tensor 'w'" && l.file == path)
        #expect(reason == "shape [2, 4] of F32 needs 32 bytes, but data_offsets [0, 24] give 24")

        let pastEnd = SafetensorsWriter.bytes([
            .init(name: "w", dtype: "F32", shape: [2, 4], data: SafetensorsWriter.f32(Self.f32Values), offsetsOverride: (0, 32)),
        ])
        let e2 = Self.error { _ = try SafetensorsCheckpoint(path: dir.write("end.safetensors", pastEnd)) }
        guard case .dataOutOfBounds(_, _, byteCount: 32, let limit)? = e2 else { Issue.record("\(String(describing: e2))"); return }
        #expect(limit == pastEnd.count)

        let reversed = SafetensorsWriter.bytes([
            .init(name: "w", dtype: "F32", shape: [0], data: [], offsetsOverride: (8, 4)),
        ])
        guard case .dataOutOfBounds? = Self.error({ _ = try SafetensorsCheckpoint(path: dir.write("rev.safetensors", reversed)) }) else {
            Issue.record("begin > end"); return
        }

        let dtype = SafetensorsWriter.bytes([.init(name: "w", dtype: "F7", shape: [1], data: [0])])
        guard case .invalidValue(_, let r3)? = Self.error({ _ = try SafetensorsCheckpoint(path: dir.write("dt.safetensors", dtype)) }) else {
            Issue.record("dtype"); return
        }
        #expect(r3 == "unknown dtype 'F7'")
    }

    @Test func headerLengthLargerThanFile() {
        let dir = TemporaryDirectory("st-header")
        defer { dir.remove() }
        var bytes = SafetensorsWriter.bytes(Self.entries())
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        let path = dir.write("h.safetensors", bytes)
        let e = Self.error { _ = try SafetensorsCheckpoint(path: path) }
        guard case .countTooLarge(let l, "header length", count: 1 << 40, let limit)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(l.offset == 0 && limit == UInt64(bytes.count - 8))
        #expect(e!.description.contains("header length 1099511627776 exceeds \(bytes.count - 8)"))

        let short = dir.write("s.safetensors", [1, 2, 3])
        guard case .truncated(_, needed: 8, remaining: 3, _)? = Self.error({ _ = try SafetensorsCheckpoint(path: short) }) else {
            Issue.record("short"); return
        }
        let notJSON = dir.write("j.safetensors", [4, 0, 0, 0, 0, 0, 0, 0] + Array("{no}".utf8))
        guard case .invalidValue(let l2, let r2)? = Self.error({ _ = try SafetensorsCheckpoint(path: notJSON) }) else {
            Issue.record("json"); return
        }
        #expect(l2.object == "header JSON" && r2.hasPrefix("is not valid JSON"))
    }

    @Test func emptyDirectoryIsAnError() {
        let dir = TemporaryDirectory("st-empty")
        defer { dir.remove() }
        guard case .io(_, let reason)? = Self.error({ _ = try SafetensorsCheckpoint(directory: dir.path) }) else {
            Issue.record("empty"); return
        }
        #expect(reason.contains("no model.safetensors"))
    }
}
