import Cluster

/// Per feature, the tokens with the largest codes (Y), largest first, ties broken by the
/// lower token index: what a report shows of Y (`tokens.csv`, the feature pages). Under MPI
/// each rank takes the top of its own columns and rank 0 merges them
/// (``gathered(codes:rank:block:count:communicator:)``), which gives the top of the whole Y:
/// any token in the global top is in its own rank's top.
public struct SNMFTopCodes: Sendable, Equatable {
    /// A token (its index among all the fit's rows) and its code.
    public struct Entry: Sendable, Equatable {
        public var token: Int
        public var code: Float
        public init(token: Int, code: Float) { (self.token, self.code) = (token, code) }

        /// Whether `self` ranks before `other`: larger code, then lower token index.
        func ranks(before other: Entry) -> Bool { code != other.code ? code > other.code : token < other.token }
    }

    /// Per feature its entries, best first.
    public var features: [[Entry]]

    public init(features: [[Entry]]) { self.features = features }

    /// The `count` best tokens of each row of `codes` (`[k, block.count]`, row-major), whose
    /// column j is token `block.lowerBound + j`.
    public init(codes: [Float], rank k: Int, block: Range<Int>, count: Int) {
        let c = block.count, keep = max(0, min(count, c))
        features = (0..<k).map { f in
            var best: [Entry] = []
            best.reserveCapacity(keep + 1)
            guard keep > 0 else { return best }
            for j in 0..<c {
                let e = Entry(token: block.lowerBound + j, code: codes[f * c + j])
                // Columns come in token order, so a code equal to the last kept one ranks after it.
                guard best.count < keep || e.code > best[keep - 1].code else { continue }
                let at = best.firstIndex { e.ranks(before: $0) } ?? best.count
                best.insert(e, at: at)
                if best.count > keep { best.removeLast() }
            }
            return best
        }
    }

    /// The `count` best of each feature among the entries of `parts` (e.g. each rank's own top).
    public init(merging parts: [SNMFTopCodes], count: Int) {
        let k = parts.first?.features.count ?? 0
        features = (0..<k).map { f in
            Array(parts.flatMap { $0.features[f] }.sorted { $0.ranks(before: $1) }.prefix(max(0, count)))
        }
    }

    /// Over the ranks of `communicator`: each rank's top `count` of its columns `block` of Y
    /// (`codes`, `[k, block.count]`), gathered to rank 0 and merged; nil on the other ranks.
    /// Token indices travel as Doubles (exact below 2⁵³).
    public static func gathered(codes: [Float], rank k: Int, block: Range<Int>, count: Int,
                                communicator: Communicator) throws -> SNMFTopCodes? {
        let mine = SNMFTopCodes(codes: codes, rank: k, block: block, count: count)
        var flat: [Double] = []
        for list in mine.features { for e in list { flat += [Double(e.token), Double(e.code)] } }
        let parts = try communicator.gather(flat, to: 0)
        guard communicator.rank == 0 else { return nil }
        let tops = parts.map { part in
            let m = k > 0 ? part.count / (2 * k) : 0
            return SNMFTopCodes(features: (0..<k).map { f in
                (0..<m).map { i in Entry(token: Int(part[2 * (f * m + i)]), code: Float(part[2 * (f * m + i) + 1])) }
            })
        }
        return SNMFTopCodes(merging: tops, count: count)
    }
}
