#if _endian(big)
#error("Formats reads little-endian files by loading their bytes directly; big-endian hosts are not supported")
#endif

/// Conversions from 16-bit floats (IEEE half, bfloat16) to `Float`.
public enum Half {
    /// IEEE 754 binary16 bits to `Float` (exact: every half is a float).
    @inline(__always)
    public static func float(fromHalfBits bits: UInt16) -> Float {
        #if arch(x86_64) && os(macOS)
        return floatByBits(fromHalfBits: bits)  // Float16 is unavailable on Intel macOS.
        #else
        return Float(Float16(bitPattern: bits))
        #endif
    }

    /// bfloat16 bits to `Float`: the top half of a float's bits (exact).
    @inline(__always)
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Binary16 to `Float` by bit manipulation, without `Float16`: the reference the fast
    /// path is tested against, and the fallback where `Float16` is missing.
    public static func floatByBits(fromHalfBits bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity, or NaN: the payload moves to the top of the float mantissa and the
            // NaN is quieted, as IEEE conversion (F16C, compiler-rt) does.
            let quiet: UInt32 = mantissa == 0 ? 0 : 0x0040_0000
            return Float(bitPattern: sign | 0x7F80_0000 | quiet | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}
