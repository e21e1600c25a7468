import Linalg

/// Rows `rows` of another chunk stream, numbered from 0: one MPI rank's share of the rows.
/// In-memory rows are sliced directly; a store stream reads only the prompts the block's rows
/// come from, an `.npy` stream only the block's rows; any other stream is read whole on every pass and all but the block's rows dropped.
struct SNMFChunkBlock: SNMFChunks {
    let base: any SNMFChunks
    let rows: Range<Int>

    var tokens: Int { rows.count }
    var neurons: Int { base.neurons }
    var source: String { "\(base.source) rows \(rows.lowerBound)..<\(rows.upperBound)" }
    var hook: String? { base.hook }
    var leftOut: SNMFLeftOut? { nil }

    func forEachChunk(rows step: Int, _ body: (Int, Tensor) throws -> Void) throws {
        let step = max(step, 1), lower = rows.lowerBound, upper = rows.upperBound
        if let memory = base as? SNMFRows {
            for first in stride(from: lower, to: upper, by: step) {
                try body(first - lower, memory.matrix.rows(first..<min(upper, first + step)))
            }
            return
        }
        if let store = base as? SNMFStoreStream { return try store.forEachChunk(rows: step, block: rows, body) }
        if let npy = base as? SNMFNpyStream { return try npy.forEachChunk(rows: step, block: rows, body) }
        try base.forEachChunk(rows: step) { first, chunk in
            let c = chunk.shape[0]
            let from = max(first, lower), to = min(first + c, upper)
            guard from < to else { return }
            try body(from - lower, from == first && to == first + c ? chunk : chunk.rows((from - first)..<(to - first)))
        }
    }

    /// Reads the block once when its rows have not been checked yet (an `.npy` stream checks
    /// each row when it is read; a store stream and in-memory rows were checked when opened),
    /// so that a bad row is met before the fit's first collective.
    /// - Throws: what reading the block throws (a non-finite row, a short file).
    func check(chunkRows: Int) throws {
        guard base is SNMFNpyStream else { return }
        try forEachChunk(rows: chunkRows) { _, _ in }
    }
}
