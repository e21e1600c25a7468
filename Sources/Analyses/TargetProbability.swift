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
    var m = -Float.infinity
    var i = 0
    var m8 = SIMD8<Float>(repeating: -.infinity)
    while i + 8 <= count {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        m8.replace(with: v, where: v .> m8)
        i += 8
    }
    m = m8.max()
    while i < count { m = max(m, x[i]); i += 1 }
    guard m.isFinite else { return .nan }
    // Eight-lane exponentials (``Kernels/exp8(_:)``, relative error about 2e-7), summed in
    // Float over blocks of 512 logits and the block sums in Double.
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
        for lane in 0..<8 { total += Double(block[lane]) }
    }
    while i < count { total += Double(Float.exp(x[i] - m)); i += 1 }
    return Double(Float.exp(x[target] - m)) / total
}
