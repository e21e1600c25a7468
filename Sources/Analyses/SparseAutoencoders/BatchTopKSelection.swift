import Dispatch

/// BatchTopK's selection (Bussmann et al. 2024): the `count` largest positive entries of a whole
/// batch of pre-activations (ReLU'd), not k per row. Found by a two-pass radix select on the
/// floats' bit patterns (positive floats order as their bits do): a histogram of the top 16
/// bits finds the bin holding the cut, a second of the low 16 bits inside that bin the exact
/// cut; entries above it are kept, and ties at the cut in row-major order up to `count`.
struct BatchTopKSelection {
    /// Active latents per row, `[rows, slots]` (padding slots hold value 0).
    var idx: [Int32]
    var val: [Float]
    var slots: Int
    /// The smallest kept value (nil when nothing is positive).
    var smallest: Float?

    /// Selects among the first `width` columns of `pre` `[rows, columns]`.
    init(_ pre: [Float], rows n: Int, columns m: Int, width w: Int, count: Int) {
        let chunks = max(1, min(n, 8))
        // Pass 1: per chunk of rows, histograms of the high 16 bits of positive entries.
        var high = [Int32](repeating: 0, count: chunks << 16)
        Self.histogram(pre, rows: n, columns: m, width: w, chunks: chunks, into: &high) { _ in true }
        var bins = [Int](repeating: 0, count: 1 << 16)
        for c in 0..<chunks { for b in 0..<(1 << 16) { bins[b] += Int(high[(c << 16) + b]) } }
        let positives = bins.reduce(0, +)
        // The cut: keep bit patterns > cut, and `ties` entries equal to it.
        var cut: UInt32 = 0, ties = 0
        if positives > count {
            var above = 0, bin = (1 << 16) - 1
            while above + bins[bin] < count { above += bins[bin]; bin -= 1 }
            var low = [Int32](repeating: 0, count: chunks << 16)
            let hi = UInt32(bin)
            Self.histogram(pre, rows: n, columns: m, width: w, chunks: chunks, into: &low, low: true) { $0 >> 16 == hi }
            var lowBins = [Int](repeating: 0, count: 1 << 16)
            for c in 0..<chunks { for b in 0..<(1 << 16) { lowBins[b] += Int(low[(c << 16) + b]) } }
            var lo = (1 << 16) - 1
            while above + lowBins[lo] < count { above += lowBins[lo]; lo -= 1 }
            cut = (hi << 16) | UInt32(lo)
            ties = count - above
        }
        // Per row: entries above the cut and entries at it; ties granted in row order.
        var greater = [Int](repeating: 0, count: n), equal = [Int](repeating: 0, count: n)
        for r in 0..<n {
            for i in 0..<w {
                let v = pre[r * m + i]
                guard v > 0 else { continue }
                let bits = v.bitPattern
                if bits > cut { greater[r] += 1 } else if positives > count && bits == cut { equal[r] += 1 }
            }
        }
        var granted = [Int](repeating: 0, count: n)
        for r in 0..<n where ties > 0 { granted[r] = min(equal[r], ties); ties -= granted[r] }
        slots = max(1, (0..<n).map { greater[$0] + granted[$0] }.max() ?? 1)
        idx = [Int32](repeating: 0, count: n * slots)
        val = [Float](repeating: 0, count: n * slots)
        var smallest: Float?
        for r in 0..<n {
            var s = r * slots, left = granted[r]
            for i in 0..<w {
                let v = pre[r * m + i]
                guard v > 0 else { continue }
                let bits = v.bitPattern
                guard bits > cut || (left > 0 && bits == cut) else { continue }
                if bits == cut && positives > count { left -= 1 }
                idx[s] = Int32(i)
                val[s] = v
                s += 1
                smallest = min(smallest ?? v, v)
            }
        }
        self.smallest = smallest
    }

    /// Adds to `counts[chunk << 16 + bin]` the positive entries of `pre`'s first `width`
    /// columns whose bit pattern passes `keep`, binned by its high (or low) 16 bits.
    private static func histogram(_ pre: [Float], rows n: Int, columns m: Int, width w: Int, chunks: Int,
                                  into counts: inout [Int32], low: Bool = false, keep: @Sendable (UInt32) -> Bool) {
        counts.withUnsafeMutableBufferPointer { out in
            pre.withUnsafeBufferPointer { pre in
                nonisolated(unsafe) let (out, pre) = (out, pre)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let h = out.baseAddress! + (chunk << 16)
                    for r in stride(from: chunk, to: n, by: chunks) {
                        let row = pre.baseAddress! + r * m
                        for i in 0..<w where row[i] > 0 {
                            let bits = row[i].bitPattern
                            guard keep(bits) else { continue }
                            h[Int(low ? bits & 0xFFFF : bits >> 16)] += 1
                        }
                    }
                }
            }
        }
    }
}
