/// K-quant kernels: 256-element super-blocks with per-group scales.
extension DequantizeKernels {
    /// The 6-bit scale and min of group `j` (0..<8) from the 12 packed bytes at `p`
    /// (`get_scale_min_k4` in ggml-quants.c).
    @inline(__always)
    static func scaleMin(_ p: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(byte(p, j) & 63), Float(byte(p, j + 4) & 63))
        }
        let scale = (byte(p, j + 4) & 0xF) | ((byte(p, j - 4) >> 6) << 4)
        let min = (byte(p, j + 4) >> 4) | ((byte(p, j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// block_q4_K: f16 d, f16 dmin, scales[12], qs[128]. Group pair i (64 elements) reads
    /// qs[32i..<32i+32]: low nibbles for group 2i, high for 2i+1; x = (d*sc) * q - (dmin*m).
    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 144, o = dst + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qs = p + 16
            for i in 0..<4 {
                let (s1, m1) = scaleMin(scales, 2 * i), (s2, m2) = scaleMin(scales, 2 * i + 1)
                let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
                let q = qs + 32 * i, out = o + 64 * i
                for l in 0..<32 {
                    let v = byte(q, l)
                    out[l] = d1 * Float(v & 0xF) - min1
                    out[l + 32] = d2 * Float(v >> 4) - min2
                }
            }
        }
    }

    /// block_q5_K: f16 d, f16 dmin, scales[12], qh[32], qs[128]. As Q4_K, plus bit g of
    /// qh[l] as the 5th bit of element l of group g.
    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 176, o = dst + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qh = p + 16, qs = p + 48
            for i in 0..<4 {
                let (s1, m1) = scaleMin(scales, 2 * i), (s2, m2) = scaleMin(scales, 2 * i + 1)
                let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
                let q = qs + 32 * i, out = o + 64 * i
                let shiftLo = UInt8(2 * i), shiftHi = UInt8(2 * i + 1)
                for l in 0..<32 {
                    let v = byte(q, l), h = byte(qh, l)
                    out[l] = d1 * Float((v & 0xF) | ((h >> shiftLo) & 1) << 4) - min1
                    out[l + 32] = d2 * Float((v >> 4) | ((h >> shiftHi) & 1) << 4) - min2
                }
            }
        }
    }

    /// block_q6_K: ql[128], qh[64], int8 scales[16], f16 d. Each half h (128 elements)
    /// reads ql[64h..<64h+64] and qh[32h..<32h+32]; x = (d * scale) * (q - 32), one scale per 16.
    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 210, o = dst + b * 256
            let d = half(p, 208)
            for h in 0..<2 {
                let ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h, out = o + 128 * h
                for l in 0..<32 {
                    let s = l / 16
                    let a = byte(ql, l), c = byte(ql, l + 32), hb = byte(qh, l)
                    let q0 = Int32((a & 0xF) | (hb & 3) << 4) - 32
                    let q1 = Int32((c & 0xF) | ((hb >> 2) & 3) << 4) - 32
                    let q2 = Int32((a >> 4) | ((hb >> 4) & 3) << 4) - 32
                    let q3 = Int32((c >> 4) | ((hb >> 6) & 3) << 4) - 32
                    out[l] = (d * Float(Int8(bitPattern: byte(sc, s)))) * Float(q0)
                    out[l + 32] = (d * Float(Int8(bitPattern: byte(sc, s + 2)))) * Float(q1)
                    out[l + 64] = (d * Float(Int8(bitPattern: byte(sc, s + 4)))) * Float(q2)
                    out[l + 96] = (d * Float(Int8(bitPattern: byte(sc, s + 6)))) * Float(q3)
                }
            }
        }
    }
}
