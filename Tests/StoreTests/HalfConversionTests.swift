import Foundation
import Linalg
import Store
import Testing

/// The f16 codec against Swift's own `Float16` conversions (the reference twin).
@Suite struct HalfConversionTests {
    @Test func everyHalfDecodesExactly() {
        let halves = (0...UInt16.max).map { $0 }
        let bytes = Data(halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        var out = [Float](repeating: 0, count: halves.count)
        bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { ActivationDType.f16.decode(raw, count: halves.count, into: $0) } }
        var mismatches = 0
        for (h, f) in zip(halves, out) {
            let expected = Float(Float16(bitPattern: h))
            if expected.isNaN ? !f.isNaN : f.bitPattern != expected.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func floatsRoundToNearestEvenLikeFloat16() {
        var rng = SeededRandom(seed: 11)
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e-8, -1e-8, 5.96e-8, 2.98e-8, 2.9802322e-8,
                               6.1035156e-05, 6.097555e-05, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        for _ in 0..<1_000_000 {
            // Random bit patterns with exponents around the half range, including subnormal halves.
            let exponent = UInt32(127 - 30 + Int(rng.next() % 50)) << 23
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x807F_FFFF | exponent))
        }
        let data = values.withUnsafeBufferPointer { ActivationDType.f16.encode($0) }
        #expect(data.count == values.count * 2)
        var mismatches: [Float] = []
        data.withUnsafeBytes { raw in
            for (i, x) in values.enumerated() {
                let got = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                if got != Float16(x).bitPattern { mismatches.append(x) }
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }

    @Test func nanStaysNaNAndF32IsVerbatim() {
        let values: [Float] = [.nan, -.nan, 1.5, -Float(bitPattern: 0x0002_7000)]  // the last one a tiny subnormal
        let half = values.withUnsafeBufferPointer { ActivationDType.f16.encode($0) }
        var back = [Float](repeating: 0, count: 4)
        half.withUnsafeBytes { raw in back.withUnsafeMutableBufferPointer { ActivationDType.f16.decode(raw, count: 4, into: $0) } }
        #expect(back[0].isNaN && back[1].isNaN && back[2] == 1.5 && back[3] == 0)
        let full = values.withUnsafeBufferPointer { ActivationDType.f32.encode($0) }
        full.withUnsafeBytes { raw in back.withUnsafeMutableBufferPointer { ActivationDType.f32.decode(raw, count: 4, into: $0) } }
        #expect(zip(values, back).allSatisfy { $0.bitPattern == $1.bitPattern })
    }
}
