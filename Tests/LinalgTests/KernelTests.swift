import Linalg
import Testing

/// Each fast kernel against its scalar reference twin.
@Suite struct KernelTests {
    var rng = SeededRandom(seed: 11)
    mutating func vector(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in scale * rng.nextGaussian() } }

    func close(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
    }

    @Test mutating func rmsNormMatchesReference() {
        let (rows, w) = (3, 67)
        let x = vector(rows * w, scale: 3), weight = vector(w)
        var out = [Float](repeating: 0, count: rows * w)
        Kernels.rmsNorm(x, weight: weight, eps: 1e-5, rows: rows, width: w, out: &out)
        for r in 0..<rows {
            #expect(close(Array(out[(r * w)..<((r + 1) * w)]),
                          Reference.rmsNorm(Array(x[(r * w)..<((r + 1) * w)]), weight: weight, eps: 1e-5)))
        }
    }

    @Test mutating func layerNormMatchesReference() {
        let w = 50
        let x = vector(w, scale: 2).map { $0 + 5 }, weight = vector(w), bias = vector(w)
        var out = [Float](repeating: 0, count: w)
        Kernels.layerNorm(x, weight: weight, bias: bias, eps: 1e-5, rows: 1, width: w, out: &out)
        #expect(close(out, Reference.layerNorm(x, weight: weight, bias: bias, eps: 1e-5)))
    }

    @Test mutating func softmaxMatchesReferenceAndMasks() {
        var x = vector(10, scale: 4)
        let expected = Reference.softmax(Array(x[0..<7]))
        Kernels.softmaxRow(&x, valid: 7, width: 10)
        #expect(close(Array(x[0..<7]), expected, 1e-6))
        #expect(x[7...].allSatisfy { $0 == 0 })
    }

    @Test func exp8MatchesDoubleExpAcrossTheRange() {
        // Every 1/64 from -87 to 88, plus the clamped ends and NaN.
        var worst = 0.0
        for start in stride(from: -87.0, to: 88.0, by: 8.0 / 64) {
            let x = SIMD8<Float>((0..<8).map { Float(start + Double($0) / 64) })
            let e = Kernels.exp8(x)
            for i in 0..<8 {
                let want = Foundation.exp(Double(x[i]))
                worst = max(worst, abs(Double(e[i]) - want) / want)
            }
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
        let edge = Kernels.exp8(SIMD8<Float>(-1000, -88, 89, 1000, .nan, 0, 1, -1))
        #expect(edge[0] > 0 && edge[0] < 2e-37 && edge[1] > 0 && edge[2].isFinite && edge[3].isFinite)
        #expect(edge[4].isNaN && edge[5] == 1 && abs(edge[6] - 2.7182817) < 1e-6 && abs(edge[7] - 0.36787945) < 1e-7)
    }

    @Test mutating func activationsMatchReference() {
        let g = vector(100, scale: 3), u = vector(100)
        var out = g
        Kernels.swiGLU(gate: &out, up: u, count: 100)
        #expect(close(out, Reference.swiGLU(gate: g, up: u)))
        var gelu = g
        Kernels.geluTanh(&gelu, count: 100)
        #expect(close(gelu, Reference.geluTanh(g)))
        #expect(abs(Reference.geluTanh([1])[0] - 0.8411920) < 1e-6)  // known value of gelu_new(1)
    }

    @Test mutating func ropeMatchesReference() {
        let (heads, hd) = (3, 8)
        let x = vector(2 * heads * hd)
        let inv = (0..<(hd / 2)).map { Float(1 / pow(10_000.0, Double(2 * $0) / Double(hd))) }
        var y = x
        let (cos, sin) = Kernels.ropeTables(positions: [0, 17], invFreq: inv)
        Kernels.rope(&y, rows: 2, heads: heads, headDim: hd, rowStride: heads * hd, cos: cos, sin: sin)
        #expect(Array(y[0..<(heads * hd)]) == Array(x[0..<(heads * hd)]))  // position 0 is the identity
        for h in 0..<heads {
            let o = heads * hd + h * hd
            #expect(close(Array(y[o..<(o + hd)]), Reference.rope(Array(x[o..<(o + hd)]), position: 17, invFreq: inv), 1e-5))
        }
    }

    @Test func gemmMatchesNaiveProduct() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let w = Tensor(shape: [2, 3], scalars: [1, 0, -1, 2, 1, 0])
        #expect(a.matmulTransposed(w) == Tensor(shape: [2, 2], scalars: [-2, 4, -2, 13]))
    }

    @Test func seededRandomIsReproducibleAndRoughlyNormal() {
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5)
        let xs = (0..<20000).map { _ in a.nextGaussian() }
        #expect(xs == (0..<20000).map { _ in b.nextGaussian() })
        let mean = xs.reduce(0, +) / Float(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(xs.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }
}

import Foundation
