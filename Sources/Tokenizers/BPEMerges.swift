/// Merge ranks keyed on a pair of token ids: `(left, right)` -> `(rank, merged id)`.
///
/// Packed as `rank << 32 | merged` so that comparing two values compares ranks; a pair has
/// a single rank, so ties only happen between occurrences of the same pair.
struct BPEMerges: Sendable {
    private var table: [UInt64: UInt64] = [:]
    /// Merges skipped because a side or the result is not in the vocabulary.
    private(set) var skipped = 0

    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Builds the table from merge lines (`"Ġ t"`), lowest rank first.
    init(merges: [String], tokenToID: [String: Int]) {
        table.reserveCapacity(merges.count)
        for (rank, line) in merges.enumerated() {
            guard let space = line.firstIndex(of: " ") else { skipped += 1; continue }
            let a = String(line[..<space]), b = String(line[line.index(after: space)...])
            guard let l = tokenToID[a], let r = tokenToID[b], let m = tokenToID[a + b] else {
                skipped += 1
                continue
            }
            let k = Self.key(Int32(l), Int32(r))
            if table[k] == nil { table[k] = UInt64(rank) << 32 | UInt64(m) }
        }
    }

    var count: Int { table.count }

    /// The packed `(rank, merged)` for a pair, or `nil` if the pair never merges.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        table[Self.key(left, right)]
    }
}
