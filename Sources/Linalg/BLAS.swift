import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Matrix products through OpenBLAS. All matrices are row-major.
public enum BLAS {
    /// `c[m x n] = alpha * a[m x k] · b[n x k]ᵀ + beta * c` — the shape of every linear layer
    /// (`x · Wᵀ` with `W` stored `[out, in]`). Leading dimensions default to dense rows.
    @inlinable
    public static func gemmTransposedB(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? k), beta, c, Int32(ldc ?? n))
    }

    /// `c[m x n] = alpha * a[m x k] · b[k x n] + beta * c`.
    @inlinable
    public static func gemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? k), b, Int32(ldb ?? n), beta, c, Int32(ldc ?? n))
    }

    /// `c[m x m] = a[m x k] · a[m x k]ᵀ` (a Gram matrix of rows) by ssyrk, half the flops of
    /// the general product; both triangles are filled.
    public static func gramRows(m: Int, k: Int, a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        guard m > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(k), 1, a, Int32(k), 0, c, Int32(m))
        for i in 0..<m { for j in 0..<i { c[i * m + j] = c[j * m + i] } }
    }

    /// `y[n] = W[n x k] · x[k]` (a linear layer on one row; memory-bound, so gemv).
    @inlinable
    public static func gemv(n: Int, k: Int, w: UnsafePointer<Float>, x: UnsafePointer<Float>,
                            y: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, 0, y, 1)
    }

    /// `c[m x n] = alpha * a[k x m]ᵀ · b[k x n] + beta * c` — a product over rows, such as a
    /// Gram matrix `XᵀX` or a gradient `Xᵀ r` with many right-hand sides.
    @inlinable
    public static func gemmTransposedA(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? m), b, Int32(ldb ?? n), beta, c, Int32(ldc ?? n))
    }

    /// `y[k] = W[n x k]ᵀ · x[n]` (a gradient through a linear map; the transpose of ``gemv(n:k:w:x:y:)``).
    @inlinable
    public static func gemvTransposed(n: Int, k: Int, w: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                      y: UnsafeMutablePointer<Float>) {
        guard k > 0 else { return }
        WorkerPool.shared?.rest()
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, 0, y, 1)
    }

    /// Euclidean norm of `x[n]` (scaled to avoid overflow, as BLAS does).
    @inlinable
    public static func norm(n: Int, x: UnsafePointer<Float>) -> Float {
        guard n > 0 else { return 0 }
        return cblas_snrm2(Int32(n), x, 1)
    }

    /// The kernel family OpenBLAS chose at run time (e.g. `Haswell`, `SkylakeX`, `Cooperlake`;
    /// `OPENBLAS_CORETYPE` overrides it). sgemm's last bits depend on it.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Number of threads OpenBLAS uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Lets OpenBLAS's idle worker threads sleep after about 2^`exponent` CPU cycles of
    /// waiting (`OPENBLAS_THREAD_TIMEOUT`; OpenBLAS's own default is 2^28, about 0.1 s). A
    /// worker that waits spins calling `sched_yield`, so between two products it takes a core
    /// from whatever Swift code runs in parallel there (semi-NMF's sparse products, attention):
    /// 2^20 cycles (about 0.3 ms) keeps the workers awake through back-to-back products
    /// (generation) and lets them sleep through longer element-wise work. A value the user set
    /// in the environment wins. Call it once at process start, before any BLAS call from
    /// another thread: it restarts OpenBLAS's worker threads. Does nothing when the library
    /// lacks the entry points (another BLAS).
    public static func letIdleThreadsSleep(afterCyclesExponent exponent: Int = 20) {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        guard let read = dlsym(handle, "openblas_read_env"), let shutdown = dlsym(handle, "blas_thread_shutdown_") else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", String(min(30, max(4, exponent))), 1)
        // OpenBLAS reads its environment when it loads; read it again, then stop the workers so
        // the next threaded product starts them with the new timeout.
        unsafeBitCast(read, to: (@convention(c) () -> Void).self)()
        _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
    }

    /// Sets the number of threads OpenBLAS uses, for the whole process. Set it once, before
    /// any pass: sgemm's last bits depend on the thread count, so changing it while passes
    /// run makes their results differ from an otherwise identical pass.
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

extension Tensor {
    /// `self[m x k] · wᵀ` for `w` stored `[n, k]`: the linear layer product. Returns `[m, n]`.
    public func matmulTransposed(_ w: Tensor) -> Tensor {
        precondition(rank == 2 && w.rank == 2 && shape[1] == w.shape[1],
                     "matmulTransposed: \(shape) · \(w.shape)ᵀ")
        var out = Tensor(zeros: [shape[0], w.shape[0]])
        withUnsafeBufferPointer { a in
            w.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedB(m: shape[0], n: w.shape[0], k: shape[1],
                                         a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        return out
    }
}
