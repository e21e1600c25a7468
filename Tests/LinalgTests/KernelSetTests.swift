import Foundation
import Linalg
import Testing

/// The AVX2 elementwise kernels against the Swift loops they replace (on CPUs with AVX2):
/// SwiGLU, rope, the maximum and the exponential sums bit for bit; the attention loops
/// within rounding of the strict scalar products.
@Suite struct KernelSetTests {
    var rng = SeededRandom(seed: 29)
    mutating func vector(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in scale * rng.nextGaussian() } }

    /// Lengths that leave every tail size after the eight-lane loop.
    static let lengths = [1, 7, 8, 9, 63, 1536, 1541]

    @Test(.enabled(if: KernelSet.cpuHasAVX2)) mutating func swiGLUIsBitIdentical() {
        for n in Self.lengths {
            // Large and special gates too: the clamp at -87 / 88, zeros of both signs, NaN.
            var g = vector(n, scale: 6), u = vector(n)
            if n > 8 { g[0] = 200; g[1] = -200; g[2] = 0; g[3] = -0.0; g[4] = .nan }
            var generic = g, avx2 = g
            Kernels.swiGLU(gate: &generic, up: u, count: n, set: .generic)
            Kernels.swiGLU(gate: &avx2, up: u, count: n, set: .avx2)
            #expect(generic.map(\.bitPattern) == avx2.map(\.bitPattern), "n = \(n)")
            #expect(zip(avx2, Reference.swiGLU(gate: g, up: u)).allSatisfy { $0.isNaN || abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
    }

    /// The streaming copy (captured activations) copies every float, NaN payloads included,
    /// from and to any alignment, and leaves the floats around the destination alone.
    @Test(arguments: KernelSet.supported) mutating func streamingCopyCopiesEveryFloat(_ set: KernelSet) {
        for n in Self.lengths + [31, 32, 33, 4099] {
            for (from, to) in [(0, 0), (1, 3), (5, 0), (3, 7)] {
                var source = vector(n + from)
                if n > 2 { source[from + 1] = Float(bitPattern: 0x7FC0_1234) }
                var destination = [Float](repeating: -1, count: n + to + 1)
                source.withUnsafeBufferPointer { s in
                    destination.withUnsafeMutableBufferPointer { d in
                        Kernels.copyStreaming(s.baseAddress! + from, to: d.baseAddress! + to, count: n, set: set)
                    }
                }
                #expect(destination[to..<(to + n)].map(\.bitPattern) == source[from...].map(\.bitPattern), "\(set) n \(n)")
                #expect(destination[..<to].allSatisfy { $0 == -1 } && destination[n + to] == -1, "\(set) n \(n): wrote outside")
            }
        }
    }

    @Test(.enabled(if: KernelSet.cpuHasAVX2)) mutating func maximumAndExponentialSumsAreBitIdentical() {
        for n in Self.lengths + [49_152, 49_157] {
            let x = vector(n, scale: 5)
            let m = Kernels.maximum(x, count: n, set: .generic)
            #expect(m == x.max()!)
            #expect(Kernels.maximum(x, count: n, set: .avx2) == m)
            let generic = Kernels.sumExp(x, count: n, shift: m, set: .generic)
            let avx2 = Kernels.sumExp(x, count: n, shift: m, set: .avx2)
            #expect(generic.bitPattern == avx2.bitPattern, "n = \(n)")
            let exact = x.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
            #expect(abs(avx2 - exact) <= 1e-6 * exact, "n = \(n): \(avx2) against \(exact)")
        }
    }

    @Test(.enabled(if: KernelSet.cpuHasAVX2)) mutating func ropeIsBitIdentical() {
        for hd in [8, 16, 64, 18] {
            let heads = 3, rows = 4
            let x = vector(rows * heads * hd)
            let inv = (0..<(hd / 2)).map { Float(1 / pow(10_000.0, Double(2 * $0) / Double(hd))) }
            let (cos, sin) = Kernels.ropeTables(positions: [0, 5, 17, 300], invFreq: inv)
            var generic = x, avx2 = x
            Kernels.rope(&generic, rows: rows, heads: heads, headDim: hd, rowStride: heads * hd, cos: cos, sin: sin, set: .generic)
            Kernels.rope(&avx2, rows: rows, heads: heads, headDim: hd, rowStride: heads * hd, cos: cos, sin: sin, set: .avx2)
            #expect(generic.map(\.bitPattern) == avx2.map(\.bitPattern), "head dim \(hd)")
        }
    }

    @Test(.enabled(if: KernelSet.cpuHasAVX2)) mutating func softmaxRowsMatchTheReference() {
        for (valid, width) in [(0, 3), (1, 1), (7, 10), (8, 8), (9, 12), (128, 128), (200, 256)] {
            var x = vector(width, scale: 6)
            let want = Reference.softmax(Array(x[0..<valid]))
            Kernels.softmaxRow(&x, valid: valid, width: width, set: .avx2)
            #expect(zip(x[0..<valid], want).allSatisfy { abs($0 - $1) <= 1e-6 * max($1, 1e-3) + 1e-9 }, "\(valid) of \(width)")
            #expect(x[valid...].allSatisfy { $0 == 0 })
            if valid > 0 { #expect(abs(x[0..<valid].reduce(0, +) - 1) < 1e-5) }
        }
    }

    @Test(.enabled(if: KernelSet.cpuHasAVX2)) mutating func attentionLoopsMatchScalarProducts() {
        // Two heads side by side in strided rows, past keys, widths with and without a tail.
        for width in [64, 13, 40] {
            let (rows, past, heads) = (5, 3, 2)
            let stride = heads * width, keys = past + rows
            let q = vector(rows * stride), k = vector(keys * stride), v = vector(keys * stride)
            for set in KernelSet.supported {
                var scores = [Float](repeating: -7, count: rows * keys)
                Kernels.scoresCausal(q: q, qStride: stride, k: k, kStride: stride, rows: rows, past: past,
                                     width: width, scale: 0.125, out: &scores, outStride: keys, set: set)
                for i in 0..<rows {
                    for j in 0..<keys {
                        if j > past + i { #expect(scores[i * keys + j] == -7); continue }   // masked: untouched
                        var dot = 0.0
                        for d in 0..<width { dot += Double(q[i * stride + d]) * Double(k[j * stride + d]) }
                        #expect(abs(Double(scores[i * keys + j]) - 0.125 * dot) < 1e-5, "\(set) \(i) \(j)")
                    }
                }
                let p = vector(rows * keys).map { abs($0) }
                var out = [Float](repeating: 0, count: rows * stride)
                Kernels.weightedSum(p: p, pStride: keys, v: v, vStride: stride, rows: rows, past: past, width: width,
                                    out: &out, outStride: stride, set: set)
                for i in 0..<rows {
                    for d in 0..<width {
                        var sum = 0.0
                        for j in 0...(past + i) { sum += Double(p[i * keys + j]) * Double(v[j * stride + d]) }
                        #expect(abs(Double(out[i * stride + d]) - sum) < 1e-5, "\(set) \(i) \(d)")
                    }
                    #expect(out[(i * stride + width)..<((i + 1) * stride)].allSatisfy { $0 == 0 })  // the other head: untouched
                }
            }
        }
    }
}
