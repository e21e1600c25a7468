import Formats
import Foundation
import Linalg

/// `--kernels-bench`: each in-place kernel of each ``KernelSet`` this CPU runs, on a random
/// 1536 × 1536 matrix of each type (scales 1.0, normal 16-bit values): the row-dot product of
/// one input row on one thread, the product of 16 input rows on one thread (what
/// `QuantizedMatrix.multiply` picks: the AVX-512 block product where the CPU has AVX-512, else
/// the multi-row kernels where the type has one or dequantized tiles and sgemm), and `dense()` (the tile
/// kernels, every thread), as billions of weights (times input rows) per second (median of 15
/// after a warm-up). One JSON line per type and set. First, on CPUs with AVX-512, the core's
/// FMA rate against the float32 product of the causal trace's batches
/// (`[550, 576] · [1536, 576]ᵀ`, one thread) from float32 and from Q4_1 weights, and the Q4_1
/// product of 16 and 100 rows with the weights in cache and from memory, in GFLOP/s.
func kernelsBenchmark() throws {
    if ProductKernel.cpuHasAVX512 {
        let peak = (0..<5).map { _ in ProductKernel.avx512PeakFlops() }.sorted()[2] / 1e9
        let (m, k, n) = (550, 576, 1536)
        var rng = SeededRandom(seed: 5)
        let a = (0..<(m * k)).map { _ in rng.nextGaussian() }, b = (0..<(n * k)).map { _ in rng.nextGaussian() }
        var c = [Float](repeating: 0, count: m * n)
        let seconds = time(runs: 15) {
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer {
                        ProductKernel.avx512.multiplyTransposed(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!,
                                                                c: $0.baseAddress!, threads: 1)
                    }
                }
            }
        }
        let rate = 2.0 * Double(m * k * n) / seconds / 1e9
        // The same product from Q4_1 blocks, as the trace's layers run it: the weight panels
        // are dequantized as they are packed, so this rate counts that decoding too.
        let q41 = try QuantizedMatrix(type: .q4_1, rows: n, columns: k,
                                      bytes: randomBlocks(.q4_1, count: n * k / GGMLType.q4_1.blockSize, rng: &rng))
        let q41Seconds = time(runs: 15) {
            a.withUnsafeBufferPointer { ap in
                c.withUnsafeMutableBufferPointer { q41.multiply(ap.baseAddress!, rows: m, into: $0.baseAddress!, threads: 1, product: .avx512) }
            }
        }
        let q41Rate = 2.0 * Double(m * k * n) / q41Seconds / 1e9
        var line: [String: Any] = ["fma_loop_gflops": peak, "product_550x576x1536_gflops": rate, "fraction_of_fma_loop": rate / peak,
                                   "product_q4_1_550x576x1536_gflops": q41Rate]
        // Fewer rows, where decoding the weights weighs more: the same matrix again and again
        // (in cache), and 80 different ones in turn (44 MB, more than L3: from memory, as a
        // forward pass reads its layers).
        let cold = try (0..<80).map { _ in
            try QuantizedMatrix(type: .q4_1, rows: n, columns: k, bytes: randomBlocks(.q4_1, count: n * k / GGMLType.q4_1.blockSize, rng: &rng))
        }
        for rows in [16, 100] {
            let hot = time(runs: 21) {
                a.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { q41.multiply(ap.baseAddress!, rows: rows, into: $0.baseAddress!, threads: 1, product: .avx512) }
                }
            }
            let coldSeconds = time(runs: 5) {
                a.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { cp in
                        for w in cold { w.multiply(ap.baseAddress!, rows: rows, into: cp.baseAddress!, threads: 1, product: .avx512) }
                    }
                }
            } / Double(cold.count)
            line["product_q4_1_\(rows)x576x1536_cached_gflops"] = 2.0 * Double(rows * k * n) / hot / 1e9
            line["product_q4_1_\(rows)x576x1536_from_memory_gflops"] = 2.0 * Double(rows * k * n) / coldSeconds / 1e9
        }
        print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
    }
    let (n, k) = (1536, 1536)
    var rng = SeededRandom(seed: 3)
    let x = (0..<k).map { _ in rng.nextGaussian() }
    var y = [Float](repeating: 0, count: n)
    let x16 = (0..<(16 * k)).map { _ in rng.nextGaussian() }
    var y16 = [Float](repeating: 0, count: 16 * n)
    for type: GGMLType in [.q4_1, .q8_0, .q4_0, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .f16, .bf16] {
        let w = try QuantizedMatrix(type: type, rows: n, columns: k, bytes: randomBlocks(type, count: n * k / type.blockSize, rng: &rng))
        for set in KernelSet.supported {
            let dot = time(runs: 15) {
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { w.multiply(xp.baseAddress!, rows: 1, into: $0.baseAddress!, threads: 1, kernels: set) }
                }
            }
            let rows16 = time(runs: 15) {
                x16.withUnsafeBufferPointer { xp in
                    y16.withUnsafeMutableBufferPointer { w.multiply(xp.baseAddress!, rows: 16, into: $0.baseAddress!, threads: 1, kernels: set) }
                }
            }
            let tile = time(runs: 15) { _ = w.dense(kernels: set) }
            let line: [String: Any] = ["type": type.name, "kernels": set.rawValue,
                                       "rowdot_gweights_per_s": Double(n * k) / dot / 1e9,
                                       "rows16_gweights_per_s": Double(16 * n * k) / rows16 / 1e9,
                                       "dense_gweights_per_s": Double(n * k) / tile / 1e9]
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Random blocks of `type` with every f16 scale 1.0 and 16-bit elements normal.
private func randomBlocks(_ type: GGMLType, count: Int, rng: inout SeededRandom) -> [UInt8] {
    var bytes = (0..<(count * type.bytesPerBlock)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let fields: [Int]
    switch type {
    case .q8_0, .q4_0, .q5_0: fields = [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: fields = [0, 2]
    case .q6_K: fields = [208]
    default: fields = []
    }
    for b in 0..<count { for f in fields { bytes[b * type.bytesPerBlock + f] = 0x00; bytes[b * type.bytesPerBlock + f + 1] = 0x3C } }
    // 16-bit elements: sign and low bits random, exponent fixed near 1 (no subnormals, no inf/NaN).
    if type == .f16 { for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] = (bytes[i] & 0x83) | 0x38 } }
    if type == .bf16 { for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] = (bytes[i] & 0x80) | 0x3F } }
    return bytes
}
