import Formats
import Testing

/// Each dequantizer against the Python `gguf` package's output (committed fixtures),
/// compared exactly: bit-identical Float32, since both follow ggml's operation order.
@Suite struct DequantizeTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    @Test(arguments: types)
    func matchesPythonGGUFExactly(_ type: GGMLType) throws {
        let blocks = try FixtureFiles.bytes("dequant/\(type.name).blocks.bin")
        let expected = try FixtureFiles.floatBits("dequant/\(type.name).expected.bin")
        let fast = try Dequantize.floats(type, bytes: blocks).map(\.bitPattern)
        let reference = try DequantizeReference.floats(type, bytes: blocks).map(\.bitPattern)
        #expect(fast.count == expected.count && reference.count == expected.count)
        #expect(zip(fast, expected).filter { $0 != $1 }.isEmpty, "\(type): fast kernel differs from gguf-py")
        #expect(zip(reference, expected).filter { $0 != $1 }.isEmpty, "\(type): reference differs from gguf-py")
    }

    /// Fast kernels against the scalar reference on many random blocks (enough to be
    /// split into parallel chunks), with random f16 scales (including inf/NaN patterns):
    /// bit-identical except that NaN payloads may differ.
    @Test(arguments: types)
    func fastMatchesReference(_ type: GGMLType) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(type.rawValue)
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let blocks = (1 << 17) / type.blockSize + 3
        let bytes = (0..<(blocks * type.bytesPerBlock)).map { _ in next() }
        let fast = try Dequantize.floats(type, bytes: bytes).map(\.bitPattern)
        let reference = try DequantizeReference.floats(type, bytes: bytes).map(\.bitPattern)
        #expect(fast.count == blocks * type.blockSize && reference.count == fast.count)
        // NaN results may carry either operand's payload (the optimizer may commute an
        // add), so any NaN matches any NaN; everything else must be bit-identical.
        func isNaN(_ bits: UInt32) -> Bool { Float(bitPattern: bits).isNaN }
        let mismatches = zip(fast, reference).enumerated().filter { _, pair in
            pair.0 != pair.1 && !(isNaN(pair.0) && isNaN(pair.1))
        }
        #expect(mismatches.isEmpty, "\(type): \(mismatches.count) mismatches, first at \(mismatches.first.map { "\($0.offset): \($0.element)" } ?? "")")
    }

    @Test func halfConversionMatchesBitReferenceForAllPatterns() {
        for bits in 0...UInt16.max {
            let a = Half.float(fromHalfBits: bits), b = Half.floatByBits(fromHalfBits: bits)
            if a.isNaN {
                #expect(b.isNaN && a.bitPattern == b.bitPattern, "half \(bits)")
            } else if a.bitPattern != b.bitPattern {
                Issue.record("half \(bits): \(a) vs \(b)")
            }
        }
        #expect(Half.float(fromHalfBits: 0x3C00) == 1)
        #expect(Half.float(fromHalfBits: 0xC000) == -2)
        #expect(Half.float(fromHalfBits: 0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(Half.float(fromBFloat16Bits: 0x3F80) == 1)
    }

    @Test func unsupportedTypeAndWrongSizeAreErrors() {
        #expect {
            _ = try Dequantize.floats(.q2_K, bytes: [UInt8](repeating: 0, count: 84))
        } throws: { error in
            guard case .unsupportedTensorType(_, let type) = error as? FormatError else { return false }
            return type == "Q2_K" && "\(error)".contains("unsupported tensor type Q2_K")
        }
        #expect {
            _ = try [UInt8](repeating: 0, count: 19).withUnsafeBytes { try Dequantize.floats(.q4_0, from: $0, count: 32) }
        } throws: { error in
            guard case .invalidValue(_, let reason) = error as? FormatError else { return false }
            return reason.contains("19 bytes")
        }
    }
}
