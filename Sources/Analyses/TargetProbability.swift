import Linalg
import RealModule

/// The softmax probability of `target` in every row of `logits` (`[rows, vocabSize]`, as
/// ``Models/Transformer/LogitRows/lastPacked`` returns them), rows spread over the cores.
///
/// Exponentials of the max-shifted logits in Float, summed in Double: within 1e-6 relative of
/// a Double softmax, and no `[vocabSize]` array per row.
func targetProbabilities(_ logits: Tensor, target: Int) -> [Double] {
    precondition(logits.rank == 2 && target >= 0 && target < logits.shape[1], "target \(target) outside \(logits.shape)")
    let (rows, vocab) = (logits.shape[0], logits.shape[1])
    var out = [Double](repeating: 0, count: rows)
    logits.withUnsafeBufferPointer { l in
        out.withUnsafeMutableBufferPointer { o in
            let (lp, op) = (l.baseAddress!, o.baseAddress!)
            parallelChunks(rows, minimumPerChunk: 4) { range in
                for r in range { op[r] = targetProbability(lp + r * vocab, count: vocab, target: target) }
            }
        }
    }
    return out
}

/// The softmax probability of `target` among `logits`.
func targetProbability(_ logits: [Float], target: Int) -> Double {
    precondition(target >= 0 && target < logits.count, "target \(target) outside \(logits.count) logits")
    return logits.withUnsafeBufferPointer { targetProbability($0.baseAddress!, count: $0.count, target: target) }
}

private func targetProbability(_ x: UnsafePointer<Float>, count: Int, target: Int) -> Double {
    var m = -Float.infinity
    for i in 0..<count { m = max(m, x[i]) }
    // Four accumulators keep the Double additions from forming one long dependency chain.
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= count {
        s0 += Double(Float.exp(x[i] - m)); s1 += Double(Float.exp(x[i + 1] - m))
        s2 += Double(Float.exp(x[i + 2] - m)); s3 += Double(Float.exp(x[i + 3] - m))
        i += 4
    }
    while i < count { s0 += Double(Float.exp(x[i] - m)); i += 1 }
    return Double(Float.exp(x[target] - m)) / ((s0 + s1) + (s2 + s3))
}
