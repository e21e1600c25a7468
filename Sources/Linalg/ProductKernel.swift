import CKernels
import Foundation

/// Which kernel runs the linear layers' many-row products `c = a · bᵀ` (``QuantizedMatrix``'s
/// dequantized tiles, float32 weights). ``active`` is chosen once per process: Loupe's
/// AVX-512 kernel where the CPU has AVX-512F but OpenBLAS runs AVX2 kernels on it, else
/// OpenBLAS's sgemm; `LOUPE_GEMM=openblas|avx512|auto` overrides it.
///
/// Why a kernel of our own: OpenBLAS picks its sgemm kernels by CPU family, and where it
/// runs AVX2 kernels on an AVX-512 CPU (`OPENBLAS_CORETYPE=Haswell`, or a release that does
/// not know the CPU) the products run at half the core's rate. On a 2-core AMD EPYC with
/// AVX-512, one thread, `[128, 576] · [1536, 576]ᵀ`: OpenBLAS's Haswell kernels 123-133
/// GFLOP/s, this kernel 237-257, OpenBLAS's own Cooperlake kernels 220-239. At the causal
/// trace's 550-row batches the Cooperlake kernels and this one run alike (246-261 against
/// 200-264 GFLOP/s), and the trace took 15.0 s with them against 16.4 s with this kernel
/// (its input packing included), so where OpenBLAS runs AVX-512 kernels it keeps the products.
public enum ProductKernel: String, Sendable, CaseIterable {
    /// `cblas_sgemm` with OpenBLAS's own threads.
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

    /// The kernel every product uses unless told otherwise: ``choose(_:cpuHasAVX512:blasCore:)``
    /// of `$LOUPE_GEMM` and OpenBLAS's kernel family; a warning goes to standard error when
    /// the request cannot be honoured.
    public static let active: ProductKernel = {
        let (kernel, warning) = choose(ProcessInfo.processInfo.environment["LOUPE_GEMM"], cpuHasAVX512: cpuHasAVX512,
                                       blasCore: BLAS.coreName)
        if let warning { FileHandle.standardError.write(Data("loupe: \(warning)\n".utf8)) }
        return kernel
    }()

    /// OpenBLAS kernel families (``BLAS/coreName``) whose sgemm runs AVX-512.
    public static let avx512BLASCores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// The kernel `request` names (`openblas`, `avx512`, or `auto`/nil: ``avx512`` when the CPU
    /// has AVX-512F and OpenBLAS's family `blasCore` is not one of ``avx512BLASCores``, else
    /// ``openblas``) and, when the request is unknown or asks for AVX-512 on a CPU without it,
    /// a warning that says which kernel is used instead.
    public static func choose(_ request: String?, cpuHasAVX512: Bool, blasCore: String) -> (kernel: ProductKernel, warning: String?) {
        let best: ProductKernel = cpuHasAVX512 && !avx512BLASCores.contains(blasCore.lowercased()) ? .avx512 : .openblas
        switch request?.lowercased() {
        case nil, "", "auto": return (best, nil)
        case "openblas": return (.openblas, nil)
        case "avx512":
            return cpuHasAVX512 ? (.avx512, nil)
                : (.openblas, "LOUPE_GEMM=avx512, but this CPU (or OS) lacks AVX-512F; using OpenBLAS's sgemm")
        case let other?:
            return (best, "LOUPE_GEMM=\(other) is not openblas, avx512 or auto; using \(best.rawValue)")
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
        PackedRows(a, rows: m, columns: k).multiplyTransposed(b, rows: n, into: c, ldc: ldc ?? n, threads: threads)
    }
}

/// Input rows `a[m × k]` packed once for ``ProductKernel/avx512``'s kernel, to be multiplied
/// by several weight tiles (``QuantizedMatrix``'s tiled product packs its input once).
public final class PackedRows {
    /// Input rows (`m`) and their length (`k`).
    public let rows: Int, columns: Int
    private let packed: UnsafeMutablePointer<Float>

    /// Packs `a` (`rows × columns`, rows `lda` apart, default `columns`). Only for CPUs where
    /// ``ProductKernel/avx512`` is supported.
    public init(_ a: UnsafePointer<Float>, rows: Int, columns: Int, lda: Int? = nil) {
        precondition(ProductKernel.cpuHasAVX512, "PackedRows needs AVX-512F")
        precondition(rows > 0 && columns >= 0, "PackedRows of \(rows) × \(columns)")
        let panels = loupe_gemm_panels(rows)
        let (count, overflow) = (panels * Int(LOUPE_GEMM_PANEL_ROWS)).multipliedReportingOverflow(by: max(columns, 1))
        precondition(!overflow, "PackedRows of \(rows) × \(columns) overflows")
        self.rows = rows
        self.columns = columns
        packed = .allocate(capacity: count)
        loupe_avx512_pack_rows(a, rows, columns, lda ?? columns, packed)
    }

    deinit { packed.deallocate() }

    /// `c[rows × n] = self · b[n × columns]ᵀ`, `c`'s rows `ldc` apart. Chunks of whole
    /// 32-column panels go to `threads` workers, each packing its own panels of `b`; every
    /// element of `c` is the same sum in the same order whatever the split.
    public func multiplyTransposed(_ b: UnsafePointer<Float>, rows n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
                                   threads: Int) {
        guard n > 0 else { return }
        guard columns > 0 else {
            for i in 0..<rows { (c + i * ldc).initialize(repeating: 0, count: n) }
            return
        }
        let width = Int(LOUPE_GEMM_PANEL_COLUMNS), scratchCount = width * Int(LOUPE_GEMM_DEPTH_BLOCK)
        let panels = (n + width - 1) / width
        let (m, k, a) = (rows, columns, UnsafePointer(packed))
        // Workers write disjoint column ranges of `c` and only read `a` and `b`; all are done
        // when parallelChunks returns. More chunks than threads, so a worker that starts late
        // takes fewer.
        parallelChunks(panels, minimumPerChunk: 2, chunks: threads > 1 ? 4 * threads : 1) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            let (jb, je) = (range.lowerBound * width, min(n, range.upperBound * width))
            loupe_avx512_gemm_nt(a, m, k, b, k, jb, je, c, ldc, scratch)
        }
    }
}
