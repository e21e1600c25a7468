import CKernels
import RealModule

/// Row-wise vector kernels of the forward pass. Each works on `rows` contiguous rows of
/// `width` floats and has a scalar twin in ``Reference`` that tests compare against.
///
/// Reductions use `Relaxed` arithmetic (swift-numerics) so the optimizer may reassociate
/// and vectorize them; results differ from the strict scalar twin by rounding only. SwiGLU,
/// rope, softmax, the maximum and exponential sums and the attention loops take a
/// ``KernelSet`` (default ``KernelSet/active``): `.avx2` runs CKernels' eight-lane versions
/// (bit-identical to the Swift loops except softmax, whose exponentials are ``exp8(_:)``'s, and
/// the attention dot products, which use FMA), `.generic` the Swift loops.
public enum Kernels {
    /// `out[r] = x[r] / sqrt(mean(x[r]²) + eps) * weight` (RMSNorm, Llama).
    @inlinable
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
        rows: Int, width: Int, out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let xr = x + r * width, o = out + r * width
            var ss: Float = 0
            for i in 0..<width { ss = Relaxed.multiplyAdd(xr[i], xr[i], ss) }
            let scale = 1 / (ss / Float(width) + eps).squareRoot()
            for i in 0..<width { o[i] = xr[i] * scale * weight[i] }
        }
    }

    /// `out[r] = (x[r] - mean) / sqrt(var + eps) * weight + bias` (LayerNorm, GPT-2).
    @inlinable
    public static func layerNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        eps: Float, rows: Int, width: Int, out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let xr = x + r * width, o = out + r * width
            var sum: Float = 0
            for i in 0..<width { sum = Relaxed.sum(sum, xr[i]) }
            let mean = sum / Float(width)
            var ss: Float = 0
            for i in 0..<width {
                let d = xr[i] - mean
                ss = Relaxed.multiplyAdd(d, d, ss)
            }
            let scale = 1 / (ss / Float(width) + eps).squareRoot()
            for i in 0..<width { o[i] = (xr[i] - mean) * scale * weight[i] + bias[i] }
        }
    }

    /// Softmax of each row in place, over its first `valid` entries; entries at and past
    /// `valid` are set to zero (the causal mask). The AVX2 kernel takes its exponentials
    /// from ``exp8(_:)`` (relative error about 2e-7), the Swift loop from `Float.exp`.
    public static func softmaxRow(_ x: UnsafeMutablePointer<Float>, valid: Int, width: Int, set: KernelSet = .active) {
        if set == .avx2 { return loupe_avx2_softmax_row(x, valid, width) }
        var m = -Float.infinity
        for i in 0..<valid where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<valid {
            let e = Float.exp(x[i] - m)
            x[i] = e
            sum = Relaxed.sum(sum, e)
        }
        let inv = 1 / sum
        for i in 0..<valid { x[i] *= inv }
        for i in valid..<width { x[i] = 0 }
    }

    /// `count` floats from `source` into `destination`, with non-temporal stores where the set
    /// has them (AVX2): for copies not read again soon, such as captured activations, which
    /// would otherwise push the pass's working set out of the caches.
    public static func copyStreaming(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int,
                                     set: KernelSet = .active) {
        if set == .avx2 { loupe_avx2_stream_copy(source, destination, count) } else { destination.update(from: source, count: count) }
    }

    /// `gate[i] = silu(gate[i]) * up[i]` (SwiGLU), in place on `gate`, eight lanes at a time
    /// with ``exp8(_:)`` (the AVX2 kernel computes the same floats).
    public static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              set: KernelSet = .active) {
        var i = set == .avx2 ? loupe_avx2_swiglu(gate, up, count) : 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(gate + i).storeBytes(of: g / (1 + exp8(-g)) * u, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let g = gate[i]
            gate[i] = g / (1 + Float.exp(-g)) * up[i]
            i += 1
        }
    }

    /// The largest of `x[0..<count]` (-infinity when empty); NaNs are skipped.
    public static func maximum(_ x: UnsafePointer<Float>, count: Int, set: KernelSet = .active) -> Float {
        var i = 0, m = -Float.infinity
        if set == .avx2 {
            m = loupe_avx2_max(x, count, &i)
        } else {
            var m8 = SIMD8<Float>(repeating: -.infinity)
            while i + 8 <= count {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                m8.replace(with: v, where: v .> m8)
                i += 8
            }
            m = m8.max()
        }
        while i < count { if x[i] > m { m = x[i] }; i += 1 }
        return m
    }

    /// `sum exp(x[i] - shift)` with ``exp8(_:)``: eight Float lanes summed over blocks of 512
    /// elements, each block's lanes added into a Double (the tail with `Float.exp`). Within
    /// about 1e-6 relative of a Double sum, and the AVX2 kernel gives the same Double.
    public static func sumExp(_ x: UnsafePointer<Float>, count: Int, shift: Float, set: KernelSet = .active) -> Double {
        var i = 0, total = 0.0
        if set == .avx2 {
            total = loupe_avx2_exp_sum(x, count, shift, 512, &i)
        } else {
            let s = SIMD8<Float>(repeating: shift)
            while i + 8 <= count {
                var block = SIMD8<Float>(repeating: 0)
                let end = min(count - count % 8, i + 512)
                while i < end {
                    block += exp8(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - s)
                    i += 8
                }
                for lane in 0..<8 { total += Double(block[lane]) }
            }
        }
        while i < count { total += Double(Float.exp(x[i] - shift)); i += 1 }
        return total
    }

    /// `x[i] = silu(x[i])` in place.
    @inlinable
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = x[i] / (1 + Float.exp(-x[i])) }
    }

    /// `eˣ` in eight lanes: `x = n·ln 2 + r` with `|r| <= ln 2 / 2` (ln 2 split in two parts
    /// so `r` is exact), a degree-6 Taylor polynomial for `eʳ` (relative error about 2e-7),
    /// and `2ⁿ` built in the exponent bits. Inputs are clamped to [-87, 88], so the result
    /// is never a subnormal, zero or infinity; NaN lanes stay NaN. Only lane-wise arithmetic,
    /// comparisons and bit casts: no per-lane conversions, so it compiles to vector code.
    @inlinable @inline(__always)
    public static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let isNumber = x .== x
        var xs = x.replacing(with: 0, where: .!isNumber)
        xs.replace(with: -87, where: xs .< -87)
        xs.replace(with: 88, where: xs .> 88)
        // Adding 1.5 x 2^23 rounds to an integer, which then sits in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = xs * 1.44269504088896341 + magic
        let n = shifted - magic
        let r = xs - n * 0.693359375 + n * 2.12194440e-4                  // ln 2 = 0.693359375 - 2.12194440e-4
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000   // n, in -126...127
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (p * scale).replacing(with: x, where: .!isNumber)
    }

    /// GPT-2's tanh approximation of GELU (`gelu_new`), in place.
    @inlinable
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.7978845608028654  // sqrt(2/pi)
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + Float.tanh(c * (v + 0.044715 * v * v * v)))
        }
    }

    /// `y[i] += x[i]`.
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// `y[i] += a * x[i]` (saxpy without BLAS's thread pool, for rows of a few thousand).
    @inlinable
    public static func addScaled(_ a: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    /// Adds `bias[width]` to every row of `x[rows, width]`.
    @inlinable
    public static func addBias(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>,
                               rows: Int, width: Int) {
        for r in 0..<rows {
            let xr = x + r * width
            for i in 0..<width { xr[i] += bias[i] }
        }
    }

    /// Causal attention scores of one head: `out[i][j] = scale * q_i · k_j` for the keys
    /// query `i` may see (`j <= past + i`); masked entries are left for the softmax to zero.
    public static func scoresCausal(
        q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
        rows: Int, past: Int, width: Int, scale: Float, out: UnsafeMutablePointer<Float>, outStride: Int,
        set: KernelSet = .active
    ) {
        if set == .avx2 {
            return loupe_avx2_scores_causal(q, qStride, k, kStride, rows, past, width, scale, out, outStride)
        }
        for i in 0..<rows {
            let qi = q + i * qStride, o = out + i * outStride
            for j in 0...(past + i) {
                let kj = k + j * kStride
                var dot: Float = 0
                for d in 0..<width { dot = Relaxed.multiplyAdd(qi[d], kj[d], dot) }
                o[j] = dot * scale
            }
        }
    }

    /// One head's attention output: `out_i = sum_j p[i][j] * v_j` over the visible keys
    /// (`j <= past + i`).
    public static func weightedSum(
        p: UnsafePointer<Float>, pStride: Int, v: UnsafePointer<Float>, vStride: Int,
        rows: Int, past: Int, width: Int, out: UnsafeMutablePointer<Float>, outStride: Int,
        set: KernelSet = .active
    ) {
        if set == .avx2 {
            return loupe_avx2_weighted_sum(p, pStride, v, vStride, rows, past, width, out, outStride)
        }
        for i in 0..<rows {
            let pi = p + i * pStride, o = out + i * outStride
            for d in 0..<width { o[d] = 0 }
            for j in 0...(past + i) {
                let w = pi[j], vj = v + j * vStride
                for d in 0..<width { o[d] = Relaxed.multiplyAdd(w, vj[d], o[d]) }
            }
        }
    }

    /// Rotary position embedding in Hugging Face's `rotate_half` layout: within each head
    /// of `headDim`, element `i` pairs with `i + headDim/2` and rotates by the angle whose
    /// cosine and sine are `cos[r * half + i]`, `sin[r * half + i]` (see ``ropeTables``).
    /// `x` is `[rows, heads, headDim]` with row stride `rowStride`.
    public static func rope(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, rowStride: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, set: KernelSet = .active
    ) {
        let half = headDim / 2
        for r in 0..<rows {
            let c = cos + r * half, s = sin + r * half
            for h in 0..<heads {
                let v = x + r * rowStride + h * headDim
                if set == .avx2 { loupe_avx2_rope(v, c, s, half); continue }
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }

    /// Cosines and sines of `position * invFreq[i]` for each position, `[positions, half]` each,
    /// computed in Double so long positions keep their precision.
    public static func ropeTables(positions: [Int], invFreq: [Float]) -> (cos: [Float], sin: [Float]) {
        var c = [Float](), s = [Float]()
        c.reserveCapacity(positions.count * invFreq.count)
        s.reserveCapacity(positions.count * invFreq.count)
        for p in positions {
            for f in invFreq {
                let angle = Double(p) * Double(f)
                c.append(Float(Double.cos(angle)))
                s.append(Float(Double.sin(angle)))
            }
        }
        return (c, s)
    }
}
