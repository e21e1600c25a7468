/// Which prompt each kept row of a store capture comes from, held as one entry per prompt (its
/// index and its first kept row: 16 bytes) rather than one per row: rows are in prompt order,
/// so a row's prompt is found by binary search. A row's position and token are read back from
/// the store only for the rows a report shows (``SNMFStoreStream/origins(of:)``).
struct SNMFPromptRuns: Sendable, Equatable {
    /// Prompt indices, ascending, each with at least one kept row.
    private(set) var prompts: [Int] = []
    /// Per prompt, the index of its first kept row.
    private(set) var firstRows: [Int] = []
    /// Kept rows in all.
    private(set) var rows = 0

    /// Counts one more kept row, from prompt `prompt` (prompts arrive in ascending order).
    mutating func appendRow(prompt: Int) {
        if prompts.last != prompt {
            prompts.append(prompt)
            firstRows.append(rows)
        }
        rows += 1
    }

    /// The entry holding `row` (0 ..< rows).
    func run(containing row: Int) -> Int {
        precondition(row >= 0 && row < rows, "row \(row) of \(rows)")
        var (lo, hi) = (0, firstRows.count - 1)
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if firstRows[mid] <= row { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The prompt index of `row`.
    func prompt(ofRow row: Int) -> Int { prompts[run(containing: row)] }

    /// The first kept row of `row`'s prompt.
    func firstRow(ofPromptOf row: Int) -> Int { firstRows[run(containing: row)] }

    /// Bytes held, about 16 per prompt.
    var bytes: Int { (prompts.capacity + firstRows.capacity) * MemoryLayout<Int>.stride }
}
