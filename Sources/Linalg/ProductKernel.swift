import CKernels
import Dispatch
import Foundation

/// Which kernel runs the linear layers' products `c = a · bᵀ` of more than a couple of input
/// rows (``QuantizedMatrix``'s products, float32 weights): OpenBLAS's sgemm, or Loupe's
/// AVX-512 kernel. ``chosen`` is read once from `$LOUPE_GEMM` (`openblas|avx512|auto`) and the
/// CPU (``choose(request:cpuHasAVX512:)``): auto takes the AVX-512 kernel wherever the CPU has
/// AVX-512F.
///
/// Why a kernel of our own: OpenBLAS picks its sgemm kernels by CPU family, and where it
/// runs AVX2 kernels on an AVX-512 CPU (`OPENBLAS_CORETYPE=Haswell`, or a release that does
/// not know the CPU) the products run at half the core's rate. On a 2-core AMD EPYC with
/// AVX-512, one thread, `[128, 576] · [1536, 576]ᵀ`: OpenBLAS's Haswell kernels 123-133
/// GFLOP/s, this kernel 237-257, OpenBLAS's own Cooperlake kernels 220-239. Short products
/// were never OpenBLAS's: Loupe's multi-row kernels ran them, and this kernel reading the
/// weights' blocks in place beats those from five rows on (the default model's 16-token pass
/// 15-16 ms against 25-28). With each block of `c` written once (slices as deep as k), it also
/// beats OpenBLAS's own AVX-512 (Cooperlake) kernels on the causal trace's 100- and 550-row
/// batches: the whole trace 14.3-14.9 s against 15.0-15.5 s, interleaved.
public enum ProductKernel: String, Sendable, CaseIterable {
    /// `cblas_sgemm` with OpenBLAS's own threads (short products: the multi-row kernels).
    case openblas
    /// `CKernels/gemm_avx512.c` (12 × 32 register blocks, packed panels) with the columns
    /// split over ``parallelChunks(_:minimumPerChunk:chunks:_:)``'s workers; run only when
    /// the CPU reports AVX-512F and the OS saves its registers.
    case avx512

    /// Whether this CPU (and OS) runs the kernel.
    public var isSupported: Bool { self == .openblas || Self.cpuHasAVX512 }

    /// The kernels this CPU runs (tests compare each one with a Double reference).
    public static var supported: [ProductKernel] { allCases.filter(\.isSupported) }

    /// CPUID and XGETBV report AVX-512F and the OS saving the opmask and ZMM registers.
    public static let cpuHasAVX512 = loupe_cpu_has_avx512() != 0

    /// What `$LOUPE_GEMM` asks for: a kernel, or nil for the automatic choice. A warning goes
    /// to standard error when the value is unknown or asks for AVX-512 on a CPU without it.
    public static let requested: ProductKernel? = {
        let (kernel, warning) = parse(ProcessInfo.processInfo.environment["LOUPE_GEMM"], cpuHasAVX512: cpuHasAVX512)
        if let warning { FileHandle.standardError.write(Data("loupe: \(warning)\n".utf8)) }
        return kernel
    }()

    /// The kernel for this process's products (what `loupe-bench` and notebooks print).
    public static let chosen = choose(request: requested, cpuHasAVX512: cpuHasAVX512)

    /// `request` where the CPU runs it; otherwise (auto) ``avx512`` when the CPU has AVX-512F,
    /// else ``openblas``.
    public static func choose(request: ProductKernel?, cpuHasAVX512: Bool) -> ProductKernel {
        if let request { return request == .avx512 && !cpuHasAVX512 ? .openblas : request }
        return cpuHasAVX512 ? .avx512 : .openblas
    }

    /// Single-precision flops per second of one thread running nothing but independent AVX-512
    /// multiply-adds for about `steps` x 24 instructions: the core's peak, to set the
    /// product's rate against (`loupe-bench --kernels-bench`). Needs AVX-512F.
    public static func avx512PeakFlops(steps: Int = 20_000_000) -> Double {
        precondition(cpuHasAVX512, "avx512PeakFlops needs AVX-512F")
        let start = DispatchTime.now().uptimeNanoseconds
        let sum = loupe_avx512_fma_loop(steps)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return sum.isNaN ? 0 : Double(steps) * 24 * 32 / seconds
    }

    /// The kernel a `$LOUPE_GEMM` value names (nil for `auto`, empty or unset) and, when the
    /// value is unknown or asks for AVX-512 on a CPU without it, a warning that says what is
    /// used instead.
    public static func parse(_ value: String?, cpuHasAVX512: Bool) -> (kernel: ProductKernel?, warning: String?) {
        switch value?.lowercased() {
        case nil, "", "auto": return (nil, nil)
        case "openblas": return (.openblas, nil)
        case "avx512":
            return cpuHasAVX512 ? (.avx512, nil)
                : (.openblas, "LOUPE_GEMM=avx512, but this CPU (or OS) lacks AVX-512F; using OpenBLAS's sgemm")
        case let other?:
            return (nil, "LOUPE_GEMM=\(other) is not openblas, avx512 or auto; choosing automatically")
        }
    }

    /// `c[m × n] = a[m × k] · b[n × k]ᵀ` (row-major; `c`'s rows `ldc` apart), by this kernel on
    /// up to `threads` threads. A kernel this CPU does not run falls back to OpenBLAS.
    public func multiplyTransposed(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                   c: UnsafeMutablePointer<Float>, ldc: Int? = nil, threads: Int = BLAS.threadCount) {
        guard m > 0, n > 0 else { return }
        guard self == .avx512, isSupported else {
            BLAS.gemmTransposedB(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc)
            return
        }
        PackedRows(a, rows: m, columns: k, threads: threads).multiplyTransposed(b, rows: n, into: c, ldc: ldc ?? n, threads: threads)
    }
}

/// Input rows `a[m × k]` packed once for ``ProductKernel/avx512``'s kernel, to be multiplied
/// by several weight tiles (``QuantizedMatrix``'s tiled product packs its input once).
public final class PackedRows {
    /// Input rows (`m`) and their length (`k`).
    public let rows: Int, columns: Int
    private let packed: UnsafeMutablePointer<Float>

    /// Packs `a` (`rows × columns`, rows `lda` apart, default `columns`), panels split over
    /// `threads` workers. Only for CPUs where ``ProductKernel/avx512`` is supported.
    public init(_ a: UnsafePointer<Float>, rows: Int, columns: Int, lda: Int? = nil, threads: Int = BLAS.threadCount) {
        precondition(ProductKernel.cpuHasAVX512, "PackedRows needs AVX-512F")
        precondition(rows > 0 && columns >= 0, "PackedRows of \(rows) × \(columns)")
        let panels = loupe_gemm_panels(rows)
        let (count, overflow) = (panels * Int(LOUPE_GEMM_PANEL_ROWS)).multipliedReportingOverflow(by: max(columns, 1))
        precondition(!overflow, "PackedRows of \(rows) × \(columns) overflows")
        self.rows = rows
        self.columns = columns
        packed = .allocate(capacity: count)
        // Workers write disjoint panels; all are done when parallelChunks returns.
        let (target, stride) = (packed, lda ?? columns)
        parallelChunks(panels, minimumPerChunk: 2, chunks: max(1, threads)) { range in
            loupe_avx512_pack_rows(a, rows, columns, stride, target, range.lowerBound, range.upperBound)
        }
    }

    deinit { packed.deallocate() }

    /// `c[rows × n] = self · b[n × columns]ᵀ`, `c`'s rows `ldc` apart. Chunks of whole
    /// 32-column panels go to `threads` workers, each packing its own panels of `b`; every
    /// element of `c` is the same sum in the same order whatever the split.
    public func multiplyTransposed(_ b: UnsafePointer<Float>, rows n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
                                   threads: Int) {
        let k = columns
        run(n: n, c: c, ldc: ldc, threads: threads) { a, m, jb, je, scratch in
            loupe_avx512_gemm_nt(a, m, k, b, k, jb, je, c, ldc, scratch)
        }
    }

    /// GGUF block formats the product reads in place (dequantizing each slice of 32 rows into
    /// its panel as `Formats.Dequantize` does, so results equal a dequantized tile's).
    public enum BlockFormat: Sendable, CaseIterable {
        case q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K, f16, bf16

        /// The kernel's `LOUPE_BLOCKS_*` code.
        var code: Int32 {
            switch self {
            case .q8_0: return Int32(LOUPE_BLOCKS_Q8_0)
            case .q4_0: return Int32(LOUPE_BLOCKS_Q4_0)
            case .q4_1: return Int32(LOUPE_BLOCKS_Q4_1)
            case .q5_0: return Int32(LOUPE_BLOCKS_Q5_0)
            case .q5_1: return Int32(LOUPE_BLOCKS_Q5_1)
            case .q4_K: return Int32(LOUPE_BLOCKS_Q4_K)
            case .q5_K: return Int32(LOUPE_BLOCKS_Q5_K)
            case .q6_K: return Int32(LOUPE_BLOCKS_Q6_K)
            case .f16: return Int32(LOUPE_BLOCKS_F16)
            case .bf16: return Int32(LOUPE_BLOCKS_BF16)
            }
        }

        /// Elements per block: 256 for the K-quants, else 32 (one group).
        public var blockElements: Int { [.q4_K, .q5_K, .q6_K].contains(self) ? 256 : 32 }
    }

    /// `c[rows × n] = self · Wᵀ` for `W` given as `n` rows of `format` blocks, `rowBytes`
    /// apart (``columns`` a multiple of the format's block), with no float32 tile written.
    public func multiplyTransposed(blocks: UnsafeRawPointer, format: BlockFormat, rowBytes: Int, rows n: Int,
                                   into c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(columns % format.blockElements == 0, "\(format) rows of \(columns) elements")
        let (k, code) = (columns, format.code)
        run(n: n, c: c, ldc: ldc, threads: threads) { a, m, jb, je, scratch in
            loupe_avx512_gemm_nt_blocks(a, m, k, blocks, rowBytes, code, jb, je, c, ldc, scratch)
        }
    }

    /// Splits the `n` output columns into whole panels over `threads` workers and calls `body`
    /// with the packed rows, their count, a column range and the worker's scratch panel.
    private func run(n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
                     _ body: (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        guard n > 0 else { return }
        guard columns > 0 else {
            for i in 0..<rows { (c + i * ldc).initialize(repeating: 0, count: n) }
            return
        }
        let width = Int(LOUPE_GEMM_PANEL_COLUMNS), scratchCount = width * loupe_gemm_depth(columns)
        let panels = (n + width - 1) / width
        let (m, a) = (rows, UnsafePointer(packed))
        // Workers write disjoint column ranges of `c` and only read the packed rows and the
        // weights; all are done when parallelChunks returns. More chunks than threads, so a
        // worker that starts late takes fewer.
        parallelChunks(panels, minimumPerChunk: 2, chunks: threads > 1 ? 4 * threads : 1) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            body(a, m, range.lowerBound * width, min(n, range.upperBound * width), scratch)
        }
    }
}
