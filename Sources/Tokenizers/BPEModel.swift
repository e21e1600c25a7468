/// Byte-level BPE over one pre-tokenized piece: bytes -> byte tokens -> merges -> ids.
struct BPEModel: Sendable {
    /// `byteTokens[b]` is the id of the single-byte token for `b`, or -1 if the vocabulary lacks it.
    let byteTokens: [Int32]
    let merges: BPEMerges
    /// llama.cpp / Hugging Face `ignore_merges`: a piece that is itself a token is emitted whole.
    let wholePieces: [[UInt8]: Int32]?
    /// Used for bytes that have no token (never happens in GPT-2-style vocabularies).
    let unknownID: Int32?

    /// Pieces with more symbols than this use the heap-based merge loop (O(n log n)).
    static let heapThreshold = 48

    init(tokens: [String], tokenToID: [String: Int], merges: [String], ignoreMerges: Bool, unknownID: Int?) {
        var bytes = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = tokenToID[String(Character(ByteLevel.byteToScalar[b]))] { bytes[b] = Int32(id) }
        }
        byteTokens = bytes
        self.merges = BPEMerges(merges: merges, tokenToID: tokenToID)
        self.unknownID = unknownID.map(Int32.init)
        if ignoreMerges {
            var whole: [[UInt8]: Int32] = [:]
            for (id, token) in tokens.enumerated() {
                if let raw = ByteLevel.decode(token), whole[raw] == nil { whole[raw] = Int32(id) }
            }
            wholePieces = whole
        } else {
            wholePieces = nil
        }
    }

    /// The ids for one piece's UTF-8 bytes.
    func encode(_ piece: [UInt8]) -> [Int32] {
        if let whole = wholePieces, let id = whole[piece] { return [id] }
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        for b in piece {
            let id = byteTokens[Int(b)]
            if id >= 0 { symbols.append(id) } else if let unk = unknownID { symbols.append(unk) }
        }
        if symbols.count > Self.heapThreshold { return mergeWithHeap(symbols) }
        return mergeByScan(symbols)
    }

    /// Repeatedly merges the lowest-ranked adjacent pair (leftmost on ties). O(n^2), fast for short pieces.
    func mergeByScan(_ input: [Int32]) -> [Int32] {
        var symbols = input
        while symbols.count > 1 {
            var best = UInt64.max
            var bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let v = merges.lookup(symbols[i], symbols[i + 1]), v < best {
                    best = v
                    bestIndex = i
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: bestIndex + 1)
        }
        return symbols
    }

    /// Same result as ``mergeByScan(_:)`` using a priority queue over (rank, position) with
    /// lazy invalidation on a doubly linked list of symbols.
    func mergeWithHeap(_ input: [Int32]) -> [Int32] {
        let n = input.count
        var ids = input
        var next = Array(1...n)            // n means "none"
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let v = merges.lookup(ids[i], ids[i + 1]) {
                heap.push(.init(value: v, left: Int32(i), right: Int32(i + 1), leftID: ids[i], rightID: ids[i + 1]))
            }
        }
        while let c = heap.pop() {
            let l = Int(c.left), r = Int(c.right)
            guard alive[l], alive[r], next[l] == r, ids[l] == c.leftID, ids[r] == c.rightID else { continue }
            ids[l] = Int32(truncatingIfNeeded: c.value & 0xFFFF_FFFF)
            alive[r] = false
            next[l] = next[r]
            if next[r] < n { prev[next[r]] = l }
            let p = prev[l]
            if p >= 0, let v = merges.lookup(ids[p], ids[l]) {
                heap.push(.init(value: v, left: Int32(p), right: Int32(l), leftID: ids[p], rightID: ids[l]))
            }
            let q = next[l]
            if q < n, let v = merges.lookup(ids[l], ids[q]) {
                heap.push(.init(value: v, left: Int32(l), right: Int32(q), leftID: ids[l], rightID: ids[q]))
            }
        }
        var out: [Int32] = []
        var i = 0
        while i < n { out.append(ids[i]); i = next[i] }
        return out
    }
}
