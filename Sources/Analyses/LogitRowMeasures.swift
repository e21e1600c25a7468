import Linalg
import RealModule

/// Per-row measures of next-token logits (`[rows, vocabSize]`, as a pass with
/// ``Models/Transformer/LogitRows/all`` returns them): log-sum-exp, cross-entropy against a
/// target and the KL divergence between two runs' distributions. Rows are spread over the
/// cores; exponentials in eight Float lanes (``Kernels/exp8(_:)``, relative error about
/// 2e-7), sums in Double, and no `[vocabSize]` array per row.
public enum LogitRowMeasures {
    /// `log Σ exp(logits[r, :])` of every row.
    public static func logSumExp(_ logits: Tensor) -> [Double] {
        precondition(logits.rank == 2, "logits of shape \(logits.shape)")
        let (rows, vocab) = (logits.shape[0], logits.shape[1])
        var out = [Double](repeating: 0, count: rows)
        logits.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in
                let (lp, op) = (l.baseAddress!, o.baseAddress!)
                parallelChunks(rows, minimumPerChunk: 8) { range in
                    for r in range { op[r] = logSumExp(lp + r * vocab, count: vocab) }
                }
            }
        }
        return out
    }

    /// `-log softmax(logits[r])[targets[i]]` for rows `r = rows.lowerBound + i`, given each
    /// row's log-sum-exp `lse` (indexed by row).
    public static func crossEntropy(_ logits: Tensor, lse: [Double], rows: Range<Int>, targets: ArraySlice<Int>) -> [Double] {
        precondition(rows.count == targets.count && rows.upperBound <= lse.count, "\(rows) rows, \(targets.count) targets")
        let vocab = logits.shape[1]
        return zip(rows, targets).map { r, t in lse[r] - Double(logits.scalars[r * vocab + t]) }
    }

    /// `KL(p || q)` in nats for each row of `rows`, where `p` and `q` are the softmax of
    /// `base` and `other` (same shape), given their rows' log-sum-exps.
    ///
    /// Summed as `Σ p_i ((a_i - b_i) - (lseA - lseB))`, so identical rows give exactly 0 and
    /// close rows lose no digits to cancellation.
    public static func klDivergence(base: Tensor, lseBase: [Double], other: Tensor, lseOther: [Double],
                                    rows: Range<Int>) -> [Double] {
        precondition(base.shape == other.shape && base.rank == 2, "logits \(base.shape) vs \(other.shape)")
        let vocab = base.shape[1]
        var out = [Double](repeating: 0, count: rows.count)
        base.withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    let (ap, bp, op) = (a.baseAddress!, b.baseAddress!, o.baseAddress!)
                    parallelChunks(rows.count, minimumPerChunk: 8) { range in
                        for i in range {
                            let r = rows.lowerBound + i
                            op[i] = klDivergence(ap + r * vocab, lseA: lseBase[r], bp + r * vocab, lseB: lseOther[r], count: vocab)
                        }
                    }
                }
            }
        }
        return out
    }

    /// `log Σ exp(x)`: the max, then exponentials of the shifted row summed in Float over
    /// blocks of 512 and the block sums in Double. NaN when the row holds NaN or infinity.
    static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var m8 = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            m8.replace(with: v, where: v .> m8)
            i += 8
        }
        var m = m8.max()
        while i < count { m = max(m, x[i]); i += 1 }
        guard m.isFinite else { return .nan }
        let shift = SIMD8<Float>(repeating: m)
        var total = 0.0
        i = 0
        while i + 8 <= count {
            var block = SIMD8<Float>(repeating: 0)
            let end = min(count - count % 8, i + 512)
            while i < end {
                block += Kernels.exp8(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - shift)
                i += 8
            }
            total += Double(block.sum())
        }
        while i < count { total += Double(Float.exp(x[i] - m)); i += 1 }
        return Double(m) + Double.log(total)
    }

    /// `Σ p_i (log p_i - log q_i)` with `p = softmax(a)`, `q = softmax(b)`.
    static func klDivergence(_ a: UnsafePointer<Float>, lseA: Double, _ b: UnsafePointer<Float>, lseB: Double, count: Int) -> Double {
        guard lseA.isFinite, lseB.isFinite else { return .nan }
        let shiftA = Float(lseA), gap = lseA - lseB
        // The residual of rounding lseA to Float goes into the weights below as a factor
        // exp(Float(lseA) - lseA), applied once per row in Double.
        let correction = Double.exp(Double(shiftA) - lseA)
        let s = SIMD8<Float>(repeating: shiftA)
        var total = 0.0
        var i = 0
        while i + 8 <= count {
            var block = SIMD8<Float>(repeating: 0)
            let end = min(count - count % 8, i + 512)
            while i < end {
                let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
                let p = Kernels.exp8(va - s)
                block += p * ((va - vb) - SIMD8<Float>(repeating: Float(gap)))
                i += 8
            }
            total += Double(block.sum())
        }
        while i < count {
            total += Double(Float.exp(a[i] - shiftA)) * (Double(a[i] - b[i]) - gap)
            i += 1
        }
        return total * correction
    }
}
