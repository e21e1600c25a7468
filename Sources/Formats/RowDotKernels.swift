/// SIMD row-dot kernels: `sum_k W[k] * x[k]` over one row of GGUF blocks, read in place.
///
/// Every kernel reads a block's bytes as `SIMD4<UInt32>` words and peels its 4-, 5-, 6- or
/// 8-bit values out with uniform shifts, so lane `L` of the `t`-th extraction of a 32-element
/// group holds element `16(t/4) + 4L + t%4` (for F16/BF16 `8(t/2) + 2L + t%2`). The input is
/// permuted into that order once per product (``RowDot/Prepared``), so the kernels never
/// shuffle. Values become floats exactly (`cvtdq2ps`), are multiplied by `x` in float32 and
/// scaled by the block's scale once per group; minimums multiply the group's input sum.
/// ``RowDotReference`` is the plain twin they are tested against. Callers guarantee that
/// `row` holds `groups / groupsPerBlock` whole blocks and `x`/`sums` hold `groups` groups.
enum RowDotKernels {
    typealias V = SIMD4<Float>
    typealias U = SIMD4<UInt32>
    typealias I = SIMD4<Int32>
    /// One kernel: the row's bytes, the permuted input, its 32-element group sums, the group count.
    typealias Kernel = (_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float

    @inline(__always) static func f(_ u: U) -> V { V(I(truncatingIfNeeded: u)) }
    @inline(__always) static func f(_ i: I) -> V { V(i) }
    @inline(__always) static func floats(_ u: U) -> V { unsafeBitCast(u, to: V.self) }
    @inline(__always) static func bits(_ v: V) -> U { unsafeBitCast(v, to: U.self) }
    @inline(__always) static func xv(_ x: UnsafePointer<Float>, _ t: Int) -> V {
        UnsafeRawPointer(x).loadUnaligned(fromByteOffset: 16 * t, as: V.self)
    }
    @inline(__always) static func word(_ p: UnsafeRawPointer, _ offset: Int) -> U {
        p.loadUnaligned(fromByteOffset: offset, as: U.self)
    }
    /// Every f16 bit pattern's float (256 KiB, built once and never written again; ggml keeps
    /// the same table for CPUs without F16C, which x86-64's baseline lacks): a block's scale
    /// costs one load instead of a library call or a dozen integer instructions.
    nonisolated(unsafe) static let halfTable: UnsafeMutablePointer<Float> = {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
        for bits in 0..<(1 << 16) { table[bits] = Half.floatByBits(fromHalfBits: UInt16(bits)) }
        return table
    }()

    /// The f16 at `offset` as a float (exact).
    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        halfTable[Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))]
    }

    /// `Σ_t q_t · x_t` over one 32-element group whose 16 nibble bytes start at `qs` (low
    /// nibbles: elements 0..<16, high: 16..<32), each value minus `offset`, plus `high`'s
    /// fifth bits (already 0 or 16 per lane) when given.
    @inline(__always)
    static func nibbles(_ qs: UnsafeRawPointer, _ x: UnsafePointer<Float>, offset: Int32,
                        high: (U, U, U, U, U, U, U, U)? = nil) -> V {
        let v = word(qs, 0), m = U(repeating: 0xF), o = I(repeating: offset)
        var q = (v & m, (v &>> 8) & m, (v &>> 16) & m, (v &>> 24) & m,
                 (v &>> 4) & m, (v &>> 12) & m, (v &>> 20) & m, v &>> 28)
        if let h = high { q = (q.0 | h.0, q.1 | h.1, q.2 | h.2, q.3 | h.3, q.4 | h.4, q.5 | h.5, q.6 | h.6, q.7 | h.7) }
        var a = f(I(truncatingIfNeeded: q.0) &- o) * xv(x, 0)
        var b = f(I(truncatingIfNeeded: q.1) &- o) * xv(x, 1)
        a += f(I(truncatingIfNeeded: q.2) &- o) * xv(x, 2)
        b += f(I(truncatingIfNeeded: q.3) &- o) * xv(x, 3)
        a += f(I(truncatingIfNeeded: q.4) &- o) * xv(x, 4)
        b += f(I(truncatingIfNeeded: q.5) &- o) * xv(x, 5)
        a += f(I(truncatingIfNeeded: q.6) &- o) * xv(x, 6)
        b += f(I(truncatingIfNeeded: q.7) &- o) * xv(x, 7)
        return a + b
    }

    /// The fifth bits of a Q5_0/Q5_1 block (bit j of `qh` for element j) as 0 or 16 per lane,
    /// in the extraction order of ``nibbles(_:_:offset:high:)``.
    @inline(__always)
    static func fifthBits(_ qh: UInt32) -> (U, U, U, U, U, U, U, U) {
        let lanes = U(1, 1 << 4, 1 << 8, 1 << 12), zero = U(repeating: 0), sixteen = U(repeating: 16)
        @inline(__always) func bits(_ shift: UInt32) -> U {
            zero.replacing(with: sixteen, where: (U(repeating: qh &>> shift) & lanes) .!= zero)
        }
        return (bits(0), bits(1), bits(2), bits(3), bits(16), bits(17), bits(18), bits(19))
    }

    static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V()
        for g in 0..<groups {
            let p = row + 18 * g
            acc += half(p, 0) * nibbles(p + 2, x + 32 * g, offset: 8)
        }
        return acc.sum()
    }

    static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V(), mins: Float = 0
        for g in 0..<groups {
            let p = row + 20 * g
            acc += half(p, 0) * nibbles(p + 4, x + 32 * g, offset: 0)
            mins += half(p, 2) * sums[g]
        }
        return acc.sum() + mins
    }

    static func q5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V()
        for g in 0..<groups {
            let p = row + 22 * g
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            acc += half(p, 0) * nibbles(p + 6, x + 32 * g, offset: 16, high: fifthBits(qh))
        }
        return acc.sum()
    }

    static func q5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V(), mins: Float = 0
        for g in 0..<groups {
            let p = row + 24 * g
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            acc += half(p, 0) * nibbles(p + 8, x + 32 * g, offset: 0, high: fifthBits(qh))
            mins += half(p, 2) * sums[g]
        }
        return acc.sum() + mins
    }

    /// block_q8_0: f16 d, int8 qs[32]. Each byte is xor'ed with 0x80 (q + 128, unsigned) so it
    /// comes out with a shift and a mask like a nibble; the 128s come back off as 128·Σx.
    static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var acc = V(), offsets: Float = 0
        let m = U(repeating: 0xFF), flip = U(repeating: 0x8080_8080)
        for g in 0..<groups {
            let p = row + 34 * g, xg = x + 32 * g
            let v0 = word(p, 2) ^ flip, v1 = word(p, 18) ^ flip
            var a = f(v0 & m) * xv(xg, 0)
            var b = f((v0 &>> 8) & m) * xv(xg, 1)
            a += f((v0 &>> 16) & m) * xv(xg, 2)
            b += f(v0 &>> 24) * xv(xg, 3)
            a += f(v1 & m) * xv(xg, 4)
            b += f((v1 &>> 8) & m) * xv(xg, 5)
            a += f((v1 &>> 16) & m) * xv(xg, 6)
            b += f(v1 &>> 24) * xv(xg, 7)
            let d = half(p, 0)
            acc += d * (a + b)
            offsets += d * sums[g]
        }
        return acc.sum() - 128 * offsets
    }

    /// Eight IEEE halves (the low and high 16 bits of each lane) as floats, exactly: the
    /// magnitude shifted into a float and rescaled by 2^112 (subnormals included), the sign
    /// copied, and infinities and NaNs rebuilt.
    @inline(__always)
    static func halves(_ h: U) -> V {
        let magnitude = floats((h & 0x7FFF) &<< 13) * 0x1p112
        let sign = (h & 0x8000) &<< 16
        let special = sign | 0x7F80_0000 | ((h & 0x3FF) &<< 13)
        let out = (bits(magnitude) | sign).replacing(with: special, where: (h & 0x7C00) .== 0x7C00)
        return floats(out)
    }

    static func f16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var a = V(), b = V()
        for g in 0..<groups {
            let p = row + 64 * g, xg = x + 32 * g
            for j in 0..<4 {
                let w = word(p, 16 * j)
                a += halves(w & 0xFFFF) * xv(xg, 2 * j)
                b += halves(w &>> 16) * xv(xg, 2 * j + 1)
            }
        }
        return (a + b).sum()
    }

    static func bf16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ groups: Int) -> Float {
        var a = V(), b = V()
        for g in 0..<groups {
            let p = row + 64 * g, xg = x + 32 * g
            for j in 0..<4 {
                let w = word(p, 16 * j)
                a += floats(w &<< 16) * xv(xg, 2 * j)
                b += floats(w & 0xFFFF_0000) * xv(xg, 2 * j + 1)
            }
        }
        return (a + b).sum()
    }
}

