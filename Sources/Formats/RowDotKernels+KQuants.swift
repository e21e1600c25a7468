/// Row-dot kernels for the K-quants: 256-element super-blocks of eight 32-element groups.
extension RowDotKernels {
    /// `Σ q·x` over one 32-element group whose values are the nibbles at `shift` of the 32
    /// bytes in words `w0`, `w1`, or'ed with `high`'s bits at `highShift` (masked by
    /// `highMask`, moved to bit 4), minus `offset`; split into the first and last 16 elements.
    @inline(__always)
    static func group(_ w0: U, _ w1: U, shift: UInt32, high: (U, U)?, highShift: UInt32, highMask: UInt32,
                      offset: Int32, _ x: UnsafePointer<Float>) -> (V, V) {
        var a = V(), b = V()
        let o = I(repeating: offset)
        for t in 0..<4 {
            let s = UInt32(8 * t)
            var q0 = (w0 &>> (s + shift)) & 0xF, q1 = (w1 &>> (s + shift)) & 0xF
            if let (h0, h1) = high {
                q0 |= ((h0 &>> (s + highShift)) & highMask) &<< 4
                q1 |= ((h1 &>> (s + highShift)) & highMask) &<< 4
            }
            a += f(I(truncatingIfNeeded: q0) &- o) * xv(x, t)
            b += f(I(truncatingIfNeeded: q1) &- o) * xv(x, t + 4)
        }
        return (a, b)
    }

    /// block_q4_K: f16 d, f16 dmin, scales[12], qs[128]; x = (d·sc)·q − dmin·m per group.
    static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V(), mins: Float = 0
        for blk in 0..<(groups / 8) {
            let p = row + 144 * blk, d = half(p, 0), dmin = half(p, 2)
            for i in 0..<4 {
                let w0 = word(p, 16 + 32 * i), w1 = word(p, 32 + 32 * i), g = 8 * blk + 2 * i
                let (s1, m1) = DequantizeKernels.scaleMin(p + 4, 2 * i)
                let (s2, m2) = DequantizeKernels.scaleMin(p + 4, 2 * i + 1)
                let (a0, b0) = group(w0, w1, shift: 0, high: nil, highShift: 0, highMask: 0, offset: 0, x + 32 * g)
                let (a1, b1) = group(w0, w1, shift: 4, high: nil, highShift: 0, highMask: 0, offset: 0, x + 32 * (g + 1))
                acc += (d * s1) * (a0 + b0) + (d * s2) * (a1 + b1)
                mins += (dmin * m1) * sums[g] + (dmin * m2) * sums[g + 1]
            }
        }
        return acc.sum() - mins
    }

    /// block_q5_K: as Q4_K plus qh[32] at 16 (bit g of qh[l] is element l of group g's fifth bit), qs at 48.
    static func q5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V(), mins: Float = 0
        for blk in 0..<(groups / 8) {
            let p = row + 176 * blk, d = half(p, 0), dmin = half(p, 2)
            let h = (word(p, 16), word(p, 32))
            for i in 0..<4 {
                let w0 = word(p, 48 + 32 * i), w1 = word(p, 64 + 32 * i), g = 8 * blk + 2 * i
                let (s1, m1) = DequantizeKernels.scaleMin(p + 4, 2 * i)
                let (s2, m2) = DequantizeKernels.scaleMin(p + 4, 2 * i + 1)
                let (a0, b0) = group(w0, w1, shift: 0, high: h, highShift: UInt32(2 * i), highMask: 1, offset: 0, x + 32 * g)
                let (a1, b1) = group(w0, w1, shift: 4, high: h, highShift: UInt32(2 * i + 1), highMask: 1, offset: 0,
                                     x + 32 * (g + 1))
                acc += (d * s1) * (a0 + b0) + (d * s2) * (a1 + b1)
                mins += (dmin * m1) * sums[g] + (dmin * m2) * sums[g + 1]
            }
        }
        return acc.sum() - mins
    }

    /// block_q6_K: ql[128], qh[64], int8 scales[16], f16 d at 208; x = (d·scale)·(q − 32), a scale per 16.
    static func q6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V()
        for blk in 0..<(groups / 8) {
            let p = row + 210 * blk, d = half(p, 208)
            for h in 0..<2 {
                let hw = (word(p, 128 + 32 * h), word(p, 144 + 32 * h))
                for k in 0..<4 {
                    let ql = 64 * h + 32 * (k % 2)
                    let (a, b) = group(word(p, ql), word(p, ql + 16), shift: k < 2 ? 0 : 4, high: hw,
                                       highShift: UInt32(2 * k), highMask: 3, offset: 32, x + 32 * (8 * blk + 4 * h + k))
                    let sc = 192 + 8 * h + 2 * k
                    let s0 = Float(Int8(bitPattern: p.load(fromByteOffset: sc, as: UInt8.self)))
                    let s1 = Float(Int8(bitPattern: p.load(fromByteOffset: sc + 1, as: UInt8.self)))
                    acc += (d * s0) * a + (d * s1) * b
                }
            }
        }
        return acc.sum()
    }
}
