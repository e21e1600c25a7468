/// Positions of a list of sparse entries grouped by latent (a counting sort): the entries of
/// latent `i` are `order[start[i]..<start[i + 1]]`, in their original order. The sparse
/// gradients walk one latent at a time over it, so each latent's sum keeps the entries' order
/// whichever thread computes it.
struct LatentGroups {
    /// `latents + 1` offsets into `order`.
    let start: [Int]
    /// Positions in the source list, grouped by latent, ascending within each group.
    let order: [Int]

    /// Groups positions `0..<latentOf.count` by `latentOf[p]`; negative values are left out.
    init(_ latentOf: [Int32], latents m: Int) {
        var start = [Int](repeating: 0, count: m + 1)
        for l in latentOf where l >= 0 { start[Int(l) + 1] += 1 }
        for i in 0..<m { start[i + 1] += start[i] }
        var next = start
        var order = [Int](repeating: 0, count: start[m])
        for (p, l) in latentOf.enumerated() where l >= 0 {
            order[next[Int(l)]] = p
            next[Int(l)] += 1
        }
        self.start = start
        self.order = order
    }

    /// The active slots (value > 0) of a `[rows, slots]` selection, by latent.
    init(idx: [Int32], val: [Float], latents m: Int) {
        self.init(zip(idx, val).map { $1 > 0 ? $0 : -1 }, latents: m)
    }

    /// Whether any of latents `range` has an entry.
    func anyEntries(in range: Range<Int>) -> Bool { start[range.upperBound] > start[range.lowerBound] }
}
