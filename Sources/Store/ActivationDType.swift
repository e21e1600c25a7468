import Foundation

/// How activation scalars are stored: little-endian IEEE float32 or float16.
public enum ActivationDType: String, Sendable, Codable, CaseIterable {
    case f32
    case f16

    /// Bytes per stored scalar.
    public var size: Int { self == .f32 ? 4 : 2 }

    /// The `.npy` descriptor of this dtype (`<f4`, `<f2`).
    public var npyDescriptor: String { self == .f32 ? "<f4" : "<f2" }

    /// `scalars` as little-endian bytes of this dtype (f16 rounds to nearest even).
    public func encode(_ scalars: UnsafeBufferPointer<Float>) -> Data {
        var data = Data(count: scalars.count * size)
        data.withUnsafeMutableBytes { out in
            switch self {
            case .f32: HalfCodec.copyFloats(scalars, to: out)
            case .f16: HalfCodec.encode(scalars, to: out)
            }
        }
        return data
    }

    /// Decodes `count` scalars of this dtype from `bytes` into `out` (which holds `count`).
    public func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(bytes.count >= count * size && out.count >= count,
                     "decode \(count) \(rawValue) scalars from \(bytes.count) bytes into \(out.count)")
        switch self {
        case .f32: HalfCodec.loadFloats(bytes, count: count, into: out)
        case .f16: HalfCodec.decode(bytes, count: count, into: out)
        }
    }
}

/// Float32 <-> float16 conversion kernels, branch-free so the loops vectorize (Swift's
/// `Float16(x)` is a library call per element on baseline x86-64). Round to nearest even,
/// exact in the other direction; tests compare them with `Float16` on every half and on
/// millions of floats. NaNs become the quiet NaN `0x7e00` (payloads are not kept).
enum HalfCodec {
    /// float32 -> float16 bits (Giesen's `float_to_half_fast3_rtne`).
    @inline(__always)
    static func half(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let sign = bits & 0x8000_0000
        let a = bits ^ sign
        // Normal result: rebias the exponent and round to nearest even on bit 13.
        let normal = (a &+ 0xC800_0FFF &+ ((a >> 13) & 1)) >> 13  // 0xC8000FFF = ((15-127) << 23) + 0xfff
        // Subnormal result: let float addition do the rounding at the right place.
        let magic: UInt32 = 0x3F00_0000  // (127 - 15 + 23 - 10 + 1) << 23
        let sub = (Float(bitPattern: a) + Float(bitPattern: magic)).bitPattern &- magic
        let infOrNaN: UInt32 = a > 0x7F80_0000 ? 0x7E00 : 0x7C00
        var h = a < 0x3880_0000 ? sub : normal   // 113 << 23: smallest normal half
        h = a >= 0x4780_0000 ? infOrNaN : h       // (127 + 16) << 23: overflows half
        return UInt16(truncatingIfNeeded: h | (sign >> 16))
    }

    /// float16 bits -> float32, exact (Giesen's `half_to_float`).
    @inline(__always)
    static func float(_ h: UInt16) -> Float {
        let shiftedExp: UInt32 = 0x7C00 << 13
        let o = (UInt32(h) & 0x7FFF) << 13
        let exp = o & shiftedExp
        let rebased = o &+ ((127 - 15) << 23)
        let infNaN = rebased &+ ((128 - 16) << 23)
        let subnormal = (Float(bitPattern: rebased &+ (1 << 23)) - Float(bitPattern: 113 << 23)).bitPattern
        let m = exp == shiftedExp ? infNaN : (exp == 0 ? subnormal : rebased)
        return Float(bitPattern: m | (UInt32(h) & 0x8000) << 16)
    }

    static func encode(_ src: UnsafeBufferPointer<Float>, to out: UnsafeMutableRawBufferPointer) {
        for i in 0..<src.count { out.storeBytes(of: half(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        if let base = bytes.baseAddress, Int(bitPattern: base) % 2 == 0 {
            // Aligned (as SQLite's buffers are): a typed loop the compiler vectorizes.
            let halves = base.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = float(UInt16(littleEndian: halves[i])) }
            return
        }
        for i in 0..<count {
            out[i] = float(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    static func copyFloats(_ src: UnsafeBufferPointer<Float>, to out: UnsafeMutableRawBufferPointer) {
        guard let base = src.baseAddress else { return }
        out.copyMemory(from: UnsafeRawBufferPointer(start: base, count: src.count * 4))
    }

    static func loadFloats(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        guard count > 0 else { return }
        UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<(count * 4)]))
    }
}
