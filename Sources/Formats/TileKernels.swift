import Linalg

/// Dequantization into ``RowDotKernels``' lane order, for the tiled product with the
/// generic ``KernelSet`` (the AVX2 set writes file order, ``AVX2Kernels/tile(_:)``): the same
/// shift-and-mask extraction as the row-dot kernels, stored as whole `SIMD4<Float>`s, so a
/// tile costs no shuffles and no library calls. The product permutes its input rows into
/// the same order (``RowDot/source(_:position:)``), so sgemm sees matching columns. Each
/// value is computed as ``Dequantize`` computes it (`d * q + m`, `q * d`), so bit-identical
/// to it up to the order of the columns.
enum TileKernels {
    typealias V = RowDotKernels.V
    typealias U = RowDotKernels.U
    /// Converts `groups` 32-element groups of one row at `source` into `destination`.
    typealias Kernel = (_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ groups: Int) -> Void

    /// A tile kernel and the column order it writes.
    struct Choice {
        let run: Kernel
        /// The row-dot kernels' lane order (``RowDot/source(_:position:)``) rather than file order.
        let lanes: Bool
    }

    /// `type`'s tile kernel in `set` (which must be supported on this CPU): every type in
    /// file order for ``KernelSet/avx2``; Q4_1 and Q8_0 in lane order for the generic set
    /// (other types then dequantize with ``Dequantize``'s kernels).
    static func kernel(_ type: GGMLType, _ set: KernelSet = .active) -> Choice? {
        if set == .avx2, let run = AVX2Kernels.tile(type) { return Choice(run: run, lanes: false) }
        switch type {
        case .q4_1: return Choice(run: q4_1, lanes: true)
        case .q8_0: return Choice(run: q8_0, lanes: true)
        default: return nil
        }
    }

    @inline(__always) static func store(_ o: UnsafeMutablePointer<Float>, _ t: Int, _ v: V) {
        UnsafeMutableRawPointer(o).storeBytes(of: v, toByteOffset: 16 * t, as: V.self)
    }

    /// block_q4_1: x = d * q + m.
    static func q4_1(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ groups: Int) {
        let mask = U(repeating: 0xF)
        for g in 0..<groups {
            let p = source + 20 * g, o = destination + 32 * g
            let d = V(repeating: RowDotKernels.half(p, 0)), m = V(repeating: RowDotKernels.half(p, 2))
            let v = RowDotKernels.word(p, 4)
            store(o, 0, d * RowDotKernels.f(v & mask) + m)
            store(o, 1, d * RowDotKernels.f((v &>> 8) & mask) + m)
            store(o, 2, d * RowDotKernels.f((v &>> 16) & mask) + m)
            store(o, 3, d * RowDotKernels.f((v &>> 24) & mask) + m)
            store(o, 4, d * RowDotKernels.f((v &>> 4) & mask) + m)
            store(o, 5, d * RowDotKernels.f((v &>> 12) & mask) + m)
            store(o, 6, d * RowDotKernels.f((v &>> 20) & mask) + m)
            store(o, 7, d * RowDotKernels.f(v &>> 28) + m)
        }
    }

    /// block_q8_0: x = q * d, bytes xor'ed to q + 128 and the 128 taken off exactly.
    static func q8_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ groups: Int) {
        let mask = U(repeating: 0xFF), flip = U(repeating: 0x8080_8080), offset = V(repeating: 128)
        for g in 0..<groups {
            let p = source + 34 * g, o = destination + 32 * g
            let d = V(repeating: RowDotKernels.half(p, 0))
            let v0 = RowDotKernels.word(p, 2) ^ flip, v1 = RowDotKernels.word(p, 18) ^ flip
            store(o, 0, (RowDotKernels.f(v0 & mask) - offset) * d)
            store(o, 1, (RowDotKernels.f((v0 &>> 8) & mask) - offset) * d)
            store(o, 2, (RowDotKernels.f((v0 &>> 16) & mask) - offset) * d)
            store(o, 3, (RowDotKernels.f(v0 &>> 24) - offset) * d)
            store(o, 4, (RowDotKernels.f(v1 & mask) - offset) * d)
            store(o, 5, (RowDotKernels.f((v1 &>> 8) & mask) - offset) * d)
            store(o, 6, (RowDotKernels.f((v1 &>> 16) & mask) - offset) * d)
            store(o, 7, (RowDotKernels.f(v1 &>> 24) - offset) * d)
        }
    }
}
