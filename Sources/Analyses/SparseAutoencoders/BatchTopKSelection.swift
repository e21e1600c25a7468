import Dispatch

/// BatchTopK's selection (Bussmann et al. 2024): the `count` largest positive entries of a whole
/// batch of pre-activations (ReLU'd), not k per row. Found by a radix select on the floats' bit
/// patterns (positive floats order as their bits do) in two scans of the batch: a histogram of
/// the top 16 bits finds the bin holding the cut; the second scan gathers every entry at or
/// above that bin (about `count` of them) and histograms the low 16 bits inside it, which gives
/// the exact cut. Entries above the cut are kept, and ties at it in row-major order up to
/// `count`. Rows are scanned in parallel chunks.
struct BatchTopKSelection {
    /// Active latents per row, `[rows, slots]` (padding slots hold value 0).
    var idx: [Int32]
    var val: [Float]
    var slots: Int
    /// The smallest kept value (nil when nothing is positive).
    var smallest: Float?

    /// One gathered entry.
    private struct Candidate { var row: Int32, latent: Int32, value: Float }

    /// Selects among the first `width` columns of `pre` `[rows, columns]`. With `share`, `pre`
    /// holds this rank's block of a batch whose `count` largest entries are kept: the
    /// histograms are summed over the ranks, so every rank finds the same cut, and the ties at
    /// it are kept in row-major order of the whole batch.
    init(_ pre: [Float], rows n: Int, columns m: Int, width w: Int, count: Int, share: SAEBatchShare? = nil) throws {
        let chunks = max(1, min(n, 8))
        // Scan 1: per chunk of rows, histograms of the high 16 bits of positive entries.
        var high = [Int32](repeating: 0, count: chunks << 16)
        Self.scan(pre, rows: n, columns: m, width: w, chunks: chunks, histogram: &high, from: nil) { _ in }
        var bins = [Int](repeating: 0, count: 1 << 16)
        for c in 0..<chunks { for b in 0..<(1 << 16) { bins[b] += Int(high[(c << 16) + b]) } }
        if let share { try share.sum(&bins) }
        // The high bin of the cut (0 keeps every positive entry when there are no more than `count`).
        let limited = bins.reduce(0, +) > count
        var above = 0, bin = limited ? (1 << 16) - 1 : 0
        while limited && above + bins[bin] < count { above += bins[bin]; bin -= 1 }
        // Scan 2: gather entries with high bits >= bin; histogram the low bits of those in it.
        var low = [Int32](repeating: 0, count: chunks << 16)
        var gathered = [[Candidate]](repeating: [], count: chunks)
        Self.scan(pre, rows: n, columns: m, width: w, chunks: chunks, histogram: &low, from: UInt32(bin)) { lists in
            gathered = lists
        }
        var cut: UInt32 = 0, ties = Int.max
        if limited {
            var lowBins = [Int](repeating: 0, count: 1 << 16)
            for c in 0..<chunks { for b in 0..<(1 << 16) { lowBins[b] += Int(low[(c << 16) + b]) } }
            let localBins = lowBins
            if let share { try share.sum(&lowBins) }
            var lo = (1 << 16) - 1
            while above + lowBins[lo] < count { above += lowBins[lo]; lo -= 1 }
            cut = (UInt32(bin) << 16) | UInt32(lo)
            ties = count - above
            if let share { ties = try share.tiesKept(local: localBins[lo], kept: ties) }
        }
        // Kept entries in row-major order (chunks hold rows chunk, chunk + chunks, ...).
        var perRow = [[Candidate]](repeating: [], count: n)
        for list in gathered {
            for c in list where c.value.bitPattern >= cut { perRow[Int(c.row)].append(c) }
        }
        var kept = [[Candidate]](repeating: [], count: n)
        for r in 0..<n {
            for c in perRow[r] {  // each row's entries are in column order
                let bits = c.value.bitPattern
                if bits > cut || !limited { kept[r].append(c) } else if ties > 0 { kept[r].append(c); ties -= 1 }
            }
        }
        let slots = max(1, kept.map(\.count).max() ?? 1)
        var idx = [Int32](repeating: 0, count: n * slots), val = [Float](repeating: 0, count: n * slots)
        var smallest: Float?
        for r in 0..<n {
            for (j, c) in kept[r].enumerated() {
                idx[r * slots + j] = c.latent
                val[r * slots + j] = c.value
                smallest = min(smallest ?? c.value, c.value)
            }
        }
        self.idx = idx
        self.val = val
        self.slots = slots
        // The whole batch's smallest kept value: the cut (some tie at it is kept on some rank),
        // or, when every positive entry is kept, the smallest over the ranks.
        if let share { smallest = limited ? Float(bitPattern: cut) : try share.minimum(smallest) }
        self.smallest = smallest
    }

    /// One parallel scan of the positive entries of `pre`'s first `width` columns. Without
    /// `from`: histograms their high 16 bits into `histogram[chunk << 16 + bin]`. With `from`:
    /// gathers (per chunk, in row then column order) those whose high bits are at least `from`
    /// and histograms the low 16 bits of those whose high bits equal it; `gathered` gets the lists.
    private static func scan(_ pre: [Float], rows n: Int, columns m: Int, width w: Int, chunks: Int,
                             histogram: inout [Int32], from: UInt32?, gathered: ([[Candidate]]) -> Void) {
        var lists = [[Candidate]](repeating: [], count: chunks)
        histogram.withUnsafeMutableBufferPointer { out in
            pre.withUnsafeBufferPointer { pre in
                lists.withUnsafeMutableBufferPointer { lists in
                    nonisolated(unsafe) let (out, pre, lists) = (out, pre, lists)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let h = out.baseAddress! + (chunk << 16)
                        var list: [Candidate] = []
                        for r in stride(from: chunk, to: n, by: chunks) {
                            let row = pre.baseAddress! + r * m
                            if let from {
                                let base = from << 16
                                for i in 0..<w where row[i] > 0 && row[i].bitPattern >= base {
                                    let bits = row[i].bitPattern
                                    list.append(Candidate(row: Int32(r), latent: Int32(i), value: row[i]))
                                    if bits >> 16 == from { h[Int(bits & 0xFFFF)] += 1 }
                                }
                            } else {
                                for i in 0..<w where row[i] > 0 { h[Int(row[i].bitPattern >> 16)] += 1 }
                            }
                        }
                        lists[chunk] = list
                    }
                }
            }
        }
        gathered(lists)
    }
}
