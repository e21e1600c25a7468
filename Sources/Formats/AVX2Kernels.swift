import Linalg
import CKernels

/// The `CKernels` AVX2/FMA/F16C kernels as ``RowDotKernels/Kernel`` and
/// ``TileKernels/Kernel`` values. They take and produce elements in file order (no lane
/// permutation); callers use them only when ``KernelSet/avx2`` is supported.
enum AVX2Kernels {
    /// `type`'s row-dot kernel (every type ``RowDot`` supports).
    static func rowDot(_ type: GGMLType) -> RowDotKernels.Kernel? {
        switch type {
        case .q8_0: return { loupe_avx2_dot_q8_0($0, $1, $2, $3) }
        case .q4_0: return { loupe_avx2_dot_q4_0($0, $1, $2, $3) }
        case .q4_1: return { loupe_avx2_dot_q4_1($0, $1, $2, $3) }
        case .q5_0: return { loupe_avx2_dot_q5_0($0, $1, $2, $3) }
        case .q5_1: return { loupe_avx2_dot_q5_1($0, $1, $2, $3) }
        case .q4_K: return { loupe_avx2_dot_q4_K($0, $1, $2, $3) }
        case .q5_K: return { loupe_avx2_dot_q5_K($0, $1, $2, $3) }
        case .q6_K: return { loupe_avx2_dot_q6_K($0, $1, $2, $3) }
        case .f16: return { loupe_avx2_dot_f16($0, $1, $2, $3) }
        case .bf16: return { loupe_avx2_dot_bf16($0, $1, $2, $3) }
        default: return nil
        }
    }

    /// One weight row against several input rows: `(row, x, xStride, sums, sumsStride, rows,
    /// groups, out, outStride)`, writing `out[i * outStride]` for each input row i.
    typealias RowsKernel = (UnsafeRawPointer, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int, Int,
                            UnsafeMutablePointer<Float>, Int) -> Void

    /// `type`'s multi-row dot kernel: the default model's types (Q4_1, Q8_0) and Q4_K (the
    /// usual type of larger llama.cpp models' layers).
    static func rowDots(_ type: GGMLType) -> RowsKernel? {
        switch type {
        case .q4_1: return { loupe_avx2_dots_q4_1($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        case .q8_0: return { loupe_avx2_dots_q8_0($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        case .q4_K: return { loupe_avx2_dots_q4_K($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        default: return nil
        }
    }

    /// `type`'s tile kernel: file order, bit-identical to ``Dequantize``.
    static func tile(_ type: GGMLType) -> TileKernels.Kernel? {
        switch type {
        case .q8_0: return { loupe_avx2_tile_q8_0($0, $1, $2) }
        case .q4_0: return { loupe_avx2_tile_q4_0($0, $1, $2) }
        case .q4_1: return { loupe_avx2_tile_q4_1($0, $1, $2) }
        case .q5_0: return { loupe_avx2_tile_q5_0($0, $1, $2) }
        case .q5_1: return { loupe_avx2_tile_q5_1($0, $1, $2) }
        case .q4_K: return { loupe_avx2_tile_q4_K($0, $1, $2) }
        case .q5_K: return { loupe_avx2_tile_q5_K($0, $1, $2) }
        case .q6_K: return { loupe_avx2_tile_q6_K($0, $1, $2) }
        case .f16: return { loupe_avx2_tile_f16($0, $1, $2) }
        case .bf16: return { loupe_avx2_tile_bf16($0, $1, $2) }
        default: return nil
        }
    }
}
