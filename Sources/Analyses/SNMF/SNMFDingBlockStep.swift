import Linalg

/// The elementwise part of Ding et al.'s update on one block of columns, given its products.
struct DingBlockStep: @unchecked Sendable {
    let y: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, za: UnsafePointer<Float>
    let scale: [Float]
    let k: Int, columns: Int, epsilon: Float

    /// Updates columns `first..<first+width` from `plus = (ZᵀZ)⁺ S Y` and `minus = (ZᵀZ)⁻ S Y`
    /// (`[k, width]`) and returns the block's `Σ out ⊙ ZᵀA`.
    func run(first: Int, width: Int, plus: [Float], minus: [Float]) -> Double {
        var cross = 0.0
        plus.withUnsafeBufferPointer { p in
            minus.withUnsafeBufferPointer { m in
                for i in 0..<k {
                    let row = i * columns + first, s = scale[i]
                    let (yr, outr, ar, pr, mr) = (y + row, out + row, za + row, p.baseAddress! + i * width, m.baseAddress! + i * width)
                    var t = 0
                    while t + 8 <= width {
                        func load(_ q: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(q + t).loadUnaligned(as: SIMD8<Float>.self) }
                        let updated = Self.step(y: load(yr), za: load(ar), plus: load(pr), minus: load(mr), scale: SIMD8(repeating: s),
                                                epsilon: SIMD8(repeating: epsilon))
                        UnsafeMutableRawPointer(outr + t).storeBytes(of: updated, as: SIMD8<Float>.self)
                        t += 8
                    }
                    for t in t..<width {
                        let one = Self.step(y: SIMD8(repeating: yr[t]), za: SIMD8(repeating: ar[t]), plus: SIMD8(repeating: pr[t]),
                                            minus: SIMD8(repeating: mr[t]), scale: SIMD8(repeating: s), epsilon: SIMD8(repeating: epsilon))
                        outr[t] = one[0]
                    }
                    cross += Self.dot(outr, ar, count: width)
                }
            }
        }
        return cross
    }

    /// Eight entries of the update: `s·y·sqrt((za⁺ + minus) / (za⁻ + plus + ε))`, or `s·y` where
    /// the denominator is 0 (written on SIMD vectors, so the square roots and divisions vectorize).
    @inline(__always)
    private static func step(y: SIMD8<Float>, za: SIMD8<Float>, plus: SIMD8<Float>, minus: SIMD8<Float>,
                             scale: SIMD8<Float>, epsilon: SIMD8<Float>) -> SIMD8<Float> {
        let zero = SIMD8<Float>()
        let v = y * scale
        let negative = za .< zero
        let denominator = (-za).replacing(with: 0, where: .!negative) + plus + epsilon
        let factor = (za.replacing(with: 0, where: negative) + minus) / denominator
        return v.replacing(with: v * factor.squareRoot(), where: denominator .> zero)
    }

    /// `Σ a[i]·b[i]` in Double, four running sums (so the multiply-adds do not wait on each other).
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
        var i = 0
        while i + 4 <= count {
            s0 += Double(a[i]) * Double(b[i]); s1 += Double(a[i + 1]) * Double(b[i + 1])
            s2 += Double(a[i + 2]) * Double(b[i + 2]); s3 += Double(a[i + 3]) * Double(b[i + 3])
            i += 4
        }
        while i < count { s0 += Double(a[i]) * Double(b[i]); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
