import Formats
import Foundation
import LoupeTestSupport
import Testing

/// Malformed GGUF files, made by corrupting one field of a small valid file. Each test
/// checks the specific error case and what its message says.
@Suite struct GGUFBadFileTests {
    static func base() -> GGUFWriter {
        GGUFWriter(metadata: [
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.tokens", .array(GGUFArray((0..<40).map { .string("token\($0)") }))),
            ("llama.block_count", .uint32(2)),
        ], tensors: [
            .f32("w", shape: [2, 4], (0..<8).map(Float.init)),
            .f32("b", shape: [3], [1, 2, 3]),
        ])
    }

    static func patch<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + $0.count), with: $0) }
    }

    /// Opens `bytes` as a GGUF file and returns the error it throws (failing if none).
    static func error(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> FormatError? {
        let dir = TemporaryDirectory("gguf-bad")
        defer { dir.remove() }
        let path = dir.write("bad.gguf", bytes)
        do {
            _ = try GGUFFile(path: path)
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return nil
        } catch let e as FormatError {
            #expect(e.file == path, sourceLocation: sourceLocation)
            #expect(!e.description.contains("\n"), "one line", sourceLocation: sourceLocation)
            return e
        } catch {
            Issue.record("not a FormatError: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func baseIsValid() throws {
        let dir = TemporaryDirectory("gguf-base")
        defer { dir.remove() }
        let gguf = try GGUFFile(path: dir.write("ok.gguf", Self.base().build().bytes))
        #expect(gguf.metadata["tokenizer.ggml.tokens"]?.strings?.count == 40)
        #expect(try gguf.tensor("b").scalars == [1, 2, 3])
    }

    @Test func truncatedAtSeveralPoints() throws {
        let (bytes, layout) = Self.base().build()
        // Inside the magic.
        guard case .truncated(let l1, needed: 4, remaining: 2, fileSize: 2)? = Self.error(Array(bytes[..<2])) else {
            Issue.record("cut in magic"); return
        }
        #expect(l1.object == "header (magic)" && l1.offset == 0)
        // Inside the header counts.
        guard case .truncated(let l2, needed: 8, remaining: 2, _)? = Self.error(Array(bytes[..<10])) else {
            Issue.record("cut in header"); return
        }
        #expect(l2.object == "header (tensor count)" && l2.offset == 8)
        // Inside a metadata value (the uint32 of llama.block_count).
        let valueAt = layout.valueTypes["llama.block_count"]! + 4
        let e3 = Self.error(Array(bytes[..<(valueAt + 2)]))
        guard case .truncated(let l3, needed: 4, remaining: 2, _)? = e3 else { Issue.record("cut in metadata: \(String(describing: e3))"); return }
        #expect(l3.object == "metadata key 'llama.block_count'" && l3.offset == valueAt)
        // Inside the tensor table (the dimensions of tensor 'b').
        let e4 = Self.error(Array(bytes[..<(layout.tensorInfos[1] + 8 + 1 + 4 + 3)]))
        guard case .truncated(let l4, needed: 8, remaining: 3, _)? = e4 else { Issue.record("cut in table: \(String(describing: e4))"); return }
        #expect(l4.object == "tensor 'b'")
        // Inside the data of tensor 'b'.
        let cut = layout.data + 32 + 4  // w is 32 bytes; b starts at data + 32
        let e5 = Self.error(Array(bytes[..<cut]))
        guard case .dataOutOfBounds(let l5, let start, byteCount: 12, limit: cut)? = e5 else {
            Issue.record("cut in data: \(String(describing: e5))"); return
        }
        #expect(l5.object == "tensor 'b'" && l5.offset == layout.tensorInfos[1] && start == UInt64(layout.data + 32))
        #expect(e5!.description.contains("tensor 'b' at byte \(layout.tensorInfos[1]): data offset \(layout.data + 32) + 12 bytes runs past the end of the file (\(cut) bytes)"))
    }

    @Test func wrongMagic() throws {
        var bytes = Self.base().build().bytes
        bytes.replaceSubrange(0..<4, with: Array("GGML".utf8))
        let e = Self.error(bytes)
        guard case .badMagic(_, _, let found)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(found == Array("GGML".utf8))
        #expect(e!.description.contains("expected magic 'GGUF', found 'GGML'"))
        #expect(Self.error([0, 1, 2, 0xFF])!.description.contains("found 0x000102ff"))
    }

    @Test func unsupportedVersions() throws {
        for version: UInt32 in [1, 0, 4, 0x0300_0000] {
            var w = Self.base()
            w.version = version
            let e = Self.error(w.build().bytes)
            guard case .unsupportedVersion(let l, let v)? = e else { Issue.record("\(String(describing: e))"); continue }
            #expect(v == version && l.offset == 4)
        }
        var v1 = Self.base()
        v1.version = 1
        #expect(Self.error(v1.build().bytes)!.description.contains("unsupported GGUF version 1; supported versions are 2 and 3 (GGUF v1 is obsolete"))
        var swapped = Self.base()
        swapped.version = 0x0300_0000
        #expect(Self.error(swapped.build().bytes)!.description.contains("big-endian"))
        var v2 = Self.base()
        v2.version = 2
        let dir = TemporaryDirectory("gguf-v2")
        defer { dir.remove() }
        #expect((try? GGUFFile(path: dir.write("v2.gguf", v2.build().bytes)))?.version == 2)
    }

    @Test func tensorOffsetPastEnd() throws {
        let (bytes, layout) = Self.base().build()
        var far = bytes
        Self.patch(&far, at: layout.tensorOffsets[1], UInt64(1 << 20))
        let e1 = Self.error(far)
        guard case .invalidValue(let l1, let r1)? = e1 else { Issue.record("\(String(describing: e1))"); return }
        #expect(l1.object == "tensor 'b'" && l1.offset == layout.tensorOffsets[1])
        #expect(r1 == "data offset 1048576 lies past the end of the file (\(bytes.count) bytes)")
        // In the file, but its bytes run past the end.
        var edge = bytes
        Self.patch(&edge, at: layout.tensorOffsets[1], UInt64(bytes.count - layout.data))
        let e2 = Self.error(edge)
        guard case .dataOutOfBounds(_, let start, byteCount: 12, let limit)? = e2 else { Issue.record("\(String(describing: e2))"); return }
        #expect(start == UInt64(bytes.count) && limit == bytes.count)
        #expect(e2!.description.contains("runs past the end of the file (\(bytes.count) bytes)"))
    }

    @Test func misalignedOffset() throws {
        let (bytes, layout) = Self.base().build()
        var b = bytes
        Self.patch(&b, at: layout.tensorOffsets[1], UInt64(4))
        let e = Self.error(b)
        guard case .invalidValue(let l, let reason)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(l.object == "tensor 'b'" && l.offset == layout.tensorOffsets[1])
        #expect(reason.contains("data offset 4 is not a multiple of the alignment 32"))
    }

    /// Absurd counts must fail when read, before anything of that size is allocated.
    @Test func absurdCountsFailFast() throws {
        let (bytes, layout) = Self.base().build()
        let clock = ContinuousClock()
        let start = clock.now

        var kv = bytes
        Self.patch(&kv, at: layout.kvCount, UInt64(1) << 60)
        guard case .countTooLarge(let l1, let what1, count: 1 << 60, let limit1)? = Self.error(kv) else { Issue.record("kv"); return }
        #expect(what1 == "metadata key/value count" && l1.offset == 16 && limit1 < UInt64(bytes.count))

        var tensors = bytes
        Self.patch(&tensors, at: layout.tensorCount, UInt64(1) << 60)
        guard case .countTooLarge(_, "tensor count", count: 1 << 60, _)? = Self.error(tensors) else { Issue.record("tensors"); return }

        var array = bytes
        let countAt = layout.valueTypes["tokenizer.ggml.tokens"]! + 8
        Self.patch(&array, at: countAt, UInt64(1) << 40)
        let e3 = Self.error(array)
        guard case .countTooLarge(let l3, "array element count", count: 1 << 40, _)? = e3 else { Issue.record("\(String(describing: e3))"); return }
        #expect(l3.object == "metadata key 'tokenizer.ggml.tokens'" && l3.offset == countAt)
        #expect(e3!.description.contains("array element count 1099511627776 exceeds"))

        var string = bytes
        let lengthAt = layout.valueTypes["general.architecture"]! + 4
        Self.patch(&string, at: lengthAt, UInt64(1) << 50)
        guard case .truncated(let l4, needed: 1 << 50, _, _)? = Self.error(string) else { Issue.record("string"); return }
        #expect(l4.object == "metadata key 'general.architecture'" && l4.offset == lengthAt + 8)

        var key = bytes
        Self.patch(&key, at: layout.keys["llama.block_count"]!, UInt64(1) << 50)
        guard case .truncated(let l5, needed: 1 << 50, _, _)? = Self.error(key) else { Issue.record("key"); return }
        #expect(l5.object == "metadata key #2")

        #expect(clock.now - start < .seconds(2))
    }

    @Test func unknownTensorType() throws {
        let (bytes, layout) = Self.base().build()
        var b = bytes
        Self.patch(&b, at: layout.tensorTypes[0], UInt32(99))
        let e = Self.error(b)
        guard case .unknownTensorType(let l, typeID: 99)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(l.object == "tensor 'w'" && l.offset == layout.tensorTypes[0])
        #expect(e!.description.contains("tensor 'w' at byte \(layout.tensorTypes[0]): unknown ggml tensor type id 99"))
    }

    @Test func unknownValueType() throws {
        let (bytes, layout) = Self.base().build()
        var b = bytes
        Self.patch(&b, at: layout.valueTypes["llama.block_count"]!, UInt32(13))
        guard case .invalidValue(let l, let reason)? = Self.error(b) else { Issue.record("value type"); return }
        #expect(l.object == "metadata key 'llama.block_count'" && reason.contains("unknown value type id 13"))
    }

    @Test func duplicateKeyAndTensorName() throws {
        var w = Self.base()
        w.metadata.append(("llama.block_count", .uint32(3)))
        guard case .duplicateName(let l, name: "llama.block_count")? = Self.error(w.build().bytes) else { Issue.record("key"); return }
        #expect(l.object == "metadata key #3")

        var t = Self.base()
        t.tensors.append(.f32("w", shape: [1], [0]))
        let e = Self.error(t.build().bytes)
        guard case .duplicateName(_, name: "w")? = e else { Issue.record("tensor"); return }
        #expect(e!.description.contains("duplicate name 'w'"))
    }

    @Test func badAlignment() throws {
        var w = Self.base()
        w.metadata.append(("general.alignment", .uint32(48)))
        guard case .invalidValue(_, let r1)? = Self.error(w.build().bytes) else { Issue.record("48"); return }
        #expect(r1.contains("alignment 48 is not a power of two"))
        var s = Self.base()
        s.metadata.append(("general.alignment", .string("32")))
        guard case .invalidValue(_, let r2)? = Self.error(s.build().bytes) else { Issue.record("string"); return }
        #expect(r2.contains("must be a uint32, found string"))
    }

    @Test func badTensorInfo() throws {
        func one(_ entry: GGUFWriter.TensorEntry) -> FormatError? {
            Self.error(GGUFWriter(tensors: [entry]).build().bytes)
        }
        let tooMany = one(.init(name: "x", dimensions: [1, 1, 1, 1, 1], type: .f32, data: [0, 0, 0, 0]))
        guard case .invalidValue(_, let r1)? = tooMany else { Issue.record("dims"); return }
        #expect(r1.contains("has 5 dimensions; at most 4"))

        let block = one(.init(name: "q", dimensions: [33], type: .q8_0, data: []))
        guard case .invalidValue(let l2, let r2)? = block else { Issue.record("block"); return }
        #expect(l2.object == "tensor 'q'" && r2.contains("row length 33 is not a multiple of Q8_0's block size 32"))

        let overflow = one(.init(name: "big", dimensions: [1 << 40, 1 << 40], type: .f32, data: []))
        guard case .invalidValue(_, let r3)? = overflow else { Issue.record("overflow"); return }
        #expect(r3.contains("element count overflows"))

        // A zero first used to hide the rest: [0, 2^40, 2^40, 2^40] parsed, then overflowed wherever the shape was multiplied out.
        let zeroFirst = one(.init(name: "big", dimensions: [0, 1 << 40, 1 << 40, 1 << 40], type: .f32, data: []))
        guard case .invalidValue(_, let r6)? = zeroFirst else { Issue.record("zero-first overflow"); return }
        #expect(r6.contains("element count overflows 64 bits at dimension 2"), "\(r6)")

        let bytesOverflow = one(.init(name: "big", dimensions: [1 << 31, 1 << 31], type: .f32, data: []))
        guard case .invalidValue(_, let r4)? = bytesOverflow else { Issue.record("byte overflow"); return }
        #expect(r4.contains("byte size"))

        let longName = one(.f32(String(repeating: "n", count: 64), shape: [1], [0]))
        guard case .invalidValue(_, let r5)? = longName else { Issue.record("name"); return }
        #expect(r5.contains("tensor name is 64 bytes; the limit is 63"))
    }

    @Test func invalidUTF8() throws {
        let (bytes, layout) = Self.base().build()
        var b = bytes
        b[layout.valueTypes["general.architecture"]! + 4 + 8] = 0xFF  // first byte of "llama"
        guard case .invalidUTF8(let l)? = Self.error(b) else { Issue.record("utf8"); return }
        #expect(l.object == "metadata key 'general.architecture'")
    }
}
