import Linalg
import Testing

/// ``ProductKernel``'s products `a · bᵀ` against a Double reference, on shapes that leave
/// every remainder of the kernel's blocking (row panels of 12, column panels of 32, depth
/// slices of at most 2048); the AVX-512 kernel's results do not depend on the
/// thread count; and `LOUPE_GEMM` resolves as documented.
@Suite struct ProductKernelTests {
    /// `c` against Σ a·b in Double: error within 1e-5 of Σ|a·b| (float32 sums of at most a
    /// few thousand terms in any order stay far inside), and `c`'s padding untouched.
    static func check(_ kernel: ProductKernel, m: Int, n: Int, k: Int, ldc: Int, threads: Int,
                      rng: inout SeededRandom) -> [Float] {
        let a = (0..<(m * k)).map { _ in rng.nextGaussian() }, b = (0..<(n * k)).map { _ in rng.nextGaussian() }
        var c = [Float](repeating: .nan, count: max(1, m * ldc))
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer {
                    kernel.multiplyTransposed(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: $0.baseAddress!,
                                              ldc: ldc, threads: threads)
                }
            }
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var value = 0.0, magnitude = 0.0
                for l in 0..<k {
                    let p = Double(a[i * k + l]) * Double(b[j * k + l])
                    value += p
                    magnitude += abs(p)
                }
                worst = max(worst, abs(Double(c[i * ldc + j]) - value) / max(magnitude, 1e-30))
            }
            for j in n..<ldc { #expect(c[i * ldc + j].isNaN, "\(kernel) m \(m) n \(n) k \(k): padding written") }
        }
        #expect(worst <= 1e-5, "\(kernel) m \(m) n \(n) k \(k) threads \(threads): worst relative error \(worst)")
        return c
    }

    @Test(arguments: ProductKernel.supported)
    func matchesTheDoubleReference(_ kernel: ProductKernel) {
        var rng = SeededRandom(seed: 41)
        for (m, n, k) in [(1, 1, 1), (2, 33, 17), (12, 32, 16), (13, 31, 256), (37, 100, 257), (5, 64, 600),
                          (250, 40, 96), (128, 70, 1536), (14, 40, 2049), (5, 33, 4700)] {
            for threads in [1, 2] {
                _ = Self.check(kernel, m: m, n: n, k: k, ldc: n + 3, threads: threads, rng: &rng)
            }
        }
    }

    /// A depth of zero gives zeros (the kernel's depth loop does not run).
    @Test(arguments: ProductKernel.supported)
    func emptyDepthGivesZeros(_ kernel: ProductKernel) {
        var rng = SeededRandom(seed: 3)
        let c = Self.check(kernel, m: 3, n: 5, k: 0, ldc: 5, threads: 2, rng: &rng)
        #expect(c.allSatisfy { $0 == 0 })
    }

    /// Each element is one sum in one order, so the column split over threads leaves no trace.
    @Test(.enabled(if: ProductKernel.cpuHasAVX512))
    func avx512ResultsDoNotDependOnThreads() {
        var results: [[UInt32]] = []
        for threads in [1, 2, 3, 8] {
            var rng = SeededRandom(seed: 9)
            results.append(Self.check(.avx512, m: 29, n: 300, k: 700, ldc: 300, threads: threads, rng: &rng).map(\.bitPattern))
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func environmentChoice() {
        // Auto: the AVX-512 kernel wherever the CPU has it.
        #expect(ProductKernel.choose(request: nil, cpuHasAVX512: true) == .avx512)
        #expect(ProductKernel.choose(request: nil, cpuHasAVX512: false) == .openblas)
        // A request wins where the CPU runs it.
        #expect(ProductKernel.choose(request: .openblas, cpuHasAVX512: true) == .openblas)
        #expect(ProductKernel.choose(request: .avx512, cpuHasAVX512: true) == .avx512)
        #expect(ProductKernel.choose(request: .avx512, cpuHasAVX512: false) == .openblas)
        // LOUPE_GEMM values.
        #expect(ProductKernel.parse(nil, cpuHasAVX512: true) == (nil, nil))
        #expect(ProductKernel.parse("auto", cpuHasAVX512: true) == (nil, nil))
        #expect(ProductKernel.parse("OpenBLAS", cpuHasAVX512: true) == (.openblas, nil))
        #expect(ProductKernel.parse("avx512", cpuHasAVX512: true) == (.avx512, nil))
        let refused = ProductKernel.parse("avx512", cpuHasAVX512: false)
        #expect(refused.kernel == .openblas && refused.warning?.contains("lacks AVX-512F") == true)
        let unknown = ProductKernel.parse("mkl", cpuHasAVX512: true)
        #expect(unknown.kernel == nil && unknown.warning?.contains("LOUPE_GEMM=mkl") == true)
        #expect(ProductKernel.supported.contains(.openblas))
    }
}
