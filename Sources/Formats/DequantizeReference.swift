/// Plain, slow, element-at-a-time dequantization: the scalar twin of ``Dequantize``'s
/// kernels, written from the block layouts independently of them (array indexing, one
/// formula per element, half floats decoded by ``Half/floatByBits(fromHalfBits:)``).
/// Tests compare the two; use ``Dequantize`` for real work.
public enum DequantizeReference {
    /// The elements of `type` encoded in `bytes` (a whole number of blocks), as Floats.
    public static func floats(_ type: GGMLType, bytes: [UInt8]) throws(FormatError) -> [Float] {
        let count = bytes.count / type.bytesPerBlock * type.blockSize
        try Dequantize.check(type, bytes: bytes.count, count: count)
        var out: [Float] = []
        out.reserveCapacity(count)
        for b in 0..<(count / type.blockSize) {
            let block = Array(bytes[(b * type.bytesPerBlock)..<((b + 1) * type.bytesPerBlock)])
            for e in 0..<type.blockSize { out.append(element(type, block, e)) }
        }
        return out
    }

    static func u16(_ block: [UInt8], _ at: Int) -> UInt16 { UInt16(block[at]) | UInt16(block[at + 1]) << 8 }
    static func f16(_ block: [UInt8], _ at: Int) -> Float { Half.floatByBits(fromHalfBits: u16(block, at)) }
    static func u32(_ block: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(block[at + $1]) << (8 * $1) }
    }

    /// The 4-bit value of element `j` (0..<32) of a legacy block whose nibbles start at `qs`.
    static func nibble(_ block: [UInt8], qs: Int, _ j: Int) -> Int {
        j < 16 ? Int(block[qs + j] & 0xF) : Int(block[qs + j - 16] >> 4)
    }

    /// Scale and min of group `g` of a Q4_K/Q5_K block (6 bits each, packed in 12 bytes at 4).
    static func scaleMin(_ block: [UInt8], _ g: Int) -> (Int, Int) {
        let s = Array(block[4..<16])
        if g < 4 { return (Int(s[g] & 63), Int(s[g + 4] & 63)) }
        return (Int(s[g + 4] & 0xF) | Int(s[g - 4] >> 6) << 4, Int(s[g + 4] >> 4) | Int(s[g] >> 6) << 4)
    }

    /// Element `e` of one block.
    static func element(_ type: GGMLType, _ block: [UInt8], _ e: Int) -> Float {
        switch type {
        case .f32:
            return Float(bitPattern: u32(block, 0))
        case .f16:
            return f16(block, 0)
        case .bf16:
            return Float(bitPattern: UInt32(u16(block, 0)) << 16)
        case .q8_0:
            return Float(Int8(bitPattern: block[2 + e])) * f16(block, 0)
        case .q4_0:
            return f16(block, 0) * Float(nibble(block, qs: 2, e) - 8)
        case .q4_1:
            return f16(block, 0) * Float(nibble(block, qs: 4, e)) + f16(block, 2)
        case .q5_0:
            let high = Int((u32(block, 2) >> UInt32(e)) & 1)
            return f16(block, 0) * Float(nibble(block, qs: 6, e) + 16 * high - 16)
        case .q5_1:
            let high = Int((u32(block, 4) >> UInt32(e)) & 1)
            return f16(block, 0) * Float(nibble(block, qs: 8, e) + 16 * high) + f16(block, 2)
        case .q4_K, .q5_K:
            // Group g = e / 32; pair g / 2 shares 32 bytes of qs: low nibbles for even g.
            let g = e / 32, l = e % 32
            let qsStart = type == .q4_K ? 16 : 48
            let byte = block[qsStart + 32 * (g / 2) + l]
            var q = g % 2 == 0 ? Int(byte & 0xF) : Int(byte >> 4)
            if type == .q5_K { q += Int((block[16 + l] >> UInt8(g)) & 1) * 16 }
            let (sc, m) = scaleMin(block, g)
            return (f16(block, 0) * Float(sc)) * Float(q) - f16(block, 2) * Float(m)
        case .q6_K:
            // Half h = e / 128; within it, quarter k = r / 32 takes ql's low (k < 2) or high
            // nibbles from ql[64h + 32(k % 2) + l] and bits 2k, 2k+1 of qh[32h + l].
            let h = e / 128, r = e % 128, k = r / 32, l = r % 32
            let qlByte = block[64 * h + 32 * (k % 2) + l]
            let low = k < 2 ? Int(qlByte & 0xF) : Int(qlByte >> 4)
            let high = Int((block[128 + 32 * h + l] >> UInt8(2 * k)) & 3)
            let scale = Float(Int8(bitPattern: block[192 + e / 16]))
            return (f16(block, 208) * scale) * Float(low + 16 * high - 32)
        default:
            preconditionFailure("no reference for \(type); check(_:bytes:count:) rejects it")
        }
    }
}
