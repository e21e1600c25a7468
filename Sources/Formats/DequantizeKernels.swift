#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fast block kernels for ``Dequantize``: each converts `blocks` whole blocks from a raw
/// pointer into a Float pointer. Callers guarantee both ranges are in bounds; nothing else
/// in the module touches these pointers. Block layouts are ggml-common.h's `block_*` structs.
/// ``DequantizeReference`` is the plain twin each kernel is tested against.
enum DequantizeKernels {
    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Half.float(fromHalfBits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    static func f32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        memcpy(dst, src, blocks * 4)  // little-endian host (see Half.swift), so bytes are floats
    }

    static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks { dst[i] = half(src, 2 * i) }
    }

    static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for i in 0..<blocks {
            dst[i] = Half.float(fromBFloat16Bits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
    }

    /// block_q8_0: f16 d, int8 qs[32]; x = q * d.
    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 34, o = dst + b * 32
            let d = half(p, 0)
            for j in 0..<32 { o[j] = Float(Int8(bitPattern: byte(p, 2 + j))) * d }
        }
    }

    /// block_q4_0: f16 d, qs[16] (element j in the low nibble of qs[j], j+16 in the high); x = d * (q - 8).
    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 18, o = dst + b * 32
            let d = half(p, 0)
            for j in 0..<16 {
                let q = byte(p, 2 + j)
                o[j] = d * Float(Int32(q & 0xF) - 8)
                o[j + 16] = d * Float(Int32(q >> 4) - 8)
            }
        }
    }

    /// block_q4_1: f16 d, f16 m, qs[16]; x = d * q + m.
    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 20, o = dst + b * 32
            let d = half(p, 0), m = half(p, 2)
            for j in 0..<16 {
                let q = byte(p, 4 + j)
                o[j] = d * Float(q & 0xF) + m
                o[j + 16] = d * Float(q >> 4) + m
            }
        }
    }

    /// block_q5_0: f16 d, u32 qh (bit j = 5th bit of element j), qs[16]; x = d * (q - 16).
    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 22, o = dst + b * 32
            let d = half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let q = UInt32(byte(p, 6 + j))
                let lo = (q & 0xF) | ((qh >> UInt32(j)) & 1) << 4
                let hi = (q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(Int32(lo) - 16)
                o[j + 16] = d * Float(Int32(hi) - 16)
            }
        }
    }

    /// block_q5_1: f16 d, f16 m, u32 qh, qs[16]; x = d * q + m.
    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 24, o = dst + b * 32
            let d = half(p, 0), m = half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let q = UInt32(byte(p, 8 + j))
                let lo = (q & 0xF) | ((qh >> UInt32(j)) & 1) << 4
                let hi = (q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(lo) + m
                o[j + 16] = d * Float(hi) + m
            }
        }
    }
}
