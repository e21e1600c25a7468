import Linalg
import RealModule

/// The softmax probability of `target` in every row of `logits` (`[rows, vocabSize]`, as
/// ``Models/Transformer/LogitRows/lastPacked`` returns them), rows spread over the cores.
///
/// Exponentials of the max-shifted logits in eight Float lanes, summed in Double: within 1e-6
/// relative of a Double softmax, and no `[vocabSize]` array per row. NaN when a row holds NaN
/// or infinite logits.
public func targetProbabilities(_ logits: Tensor, target: Int) -> [Double] {
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
public func targetProbability(_ logits: [Float], target: Int) -> Double {
    precondition(target >= 0 && target < logits.count, "target \(target) outside \(logits.count) logits")
    return logits.withUnsafeBufferPointer { targetProbability($0.baseAddress!, count: $0.count, target: target) }
}

private func targetProbability(_ x: UnsafePointer<Float>, count: Int, target: Int) -> Double {
    let m = Kernels.maximum(x, count: count)
    guard m.isFinite else { return .nan }
    // Eight-lane exponentials (``Kernels/exp8(_:)``, relative error about 2e-7), summed in
    // Float over blocks of 512 logits and the block sums in Double.
    return Double(Float.exp(x[target] - m)) / Kernels.sumExp(x, count: count, shift: m)
}
