import Foundation
import Linalg
import Store

/// One hook of a store capture as ``SNMFChunks``: every row but position 0 and special tokens
/// (``SNMFLeftOut``), in stored order,
/// decoded a chunk at a time by ``ActivationReader`` on each pass. Opening it reads the
/// capture once to count the rows, check they are finite and note where each came from
/// (24 bytes per row), so a fit can be sized before it starts.
public struct SNMFStoreStream: SNMFChunks {
    let store: ActivationStore
    let capture: CaptureRecord
    public let source: String
    public let hook: String?
    public let tokens: Int
    public let neurons: Int
    public let origins: [SNMFRows.Origin]
    public let prompts: [Int: (text: String, tokens: [Int])]
    public let leftOut: SNMFLeftOut?
    let filter: SNMFRowFilter

    /// - Throws: `StoreError` when the store, capture or hook is missing; ``SNMFError`` when
    ///   no row is left after position 0 and `specialIDs` or a row is not finite.
    public init(store path: String, capture id: Int64?, hook: String, specialIDs: [Int] = []) throws {
        store = try ActivationStore(path: path)
        let summary = try store.captureSummary(choosing: id)
        capture = try store.capture(id: summary.id)
        self.hook = hook
        source = "\(URL(fileURLWithPath: path).lastPathComponent) capture \(summary.id) \(hook)"
        var reader = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 4096)
        neurons = reader.width
        var origins: [SNMFRows.Origin] = []
        var filter = SNMFRowFilter(specialIDs: specialIDs)
        while let batch = try reader.nextBatch() {
            for r in 0..<batch.rows.shape[0] where filter.keeps(position: batch.positions[r], token: batch.tokens[r]) {
                let row = batch.rows.scalars[(r * neurons)..<((r + 1) * neurons)]
                if row.contains(where: { !$0.isFinite }) { throw SNMFError.nonFiniteRow(row: origins.count, source: source) }
                origins.append(SNMFRows.Origin(prompt: batch.promptIndices[r], position: batch.positions[r], token: batch.tokens[r]))
            }
        }
        guard !origins.isEmpty, neurons > 0 else { throw SNMFError.empty("\(source) holds no rows but position 0 and special tokens") }
        tokens = origins.count
        self.filter = filter
        leftOut = filter.leftOut
        self.origins = origins
        var prompts: [Int: (text: String, tokens: [Int])] = [:]
        let used = Set(origins.map(\.prompt))
        for p in try store.prompts(dataset: capture.datasetID) where used.contains(p.index) { prompts[p.index] = (p.text, p.tokens) }
        self.prompts = prompts
    }

    public func forEachChunk(rows: Int, _ body: (Int, Tensor) throws -> Void) throws {
        try forEachChunk(rows: rows, block: 0..<tokens, body)
    }

    /// The rows `block` of the stream, numbered from 0, in chunks of at most `rows`: only the
    /// prompts those rows come from are read (rows are in prompt order), so each MPI rank reads
    /// its own stretch of the capture.
    func forEachChunk(rows: Int, block: Range<Int>, _ body: (Int, Tensor) throws -> Void) throws {
        guard !block.isEmpty else { return }
        let step = max(rows, 1), d = neurons
        let prompts = origins[block.lowerBound].prompt...origins[block.upperBound - 1].prompt
        var index = block.lowerBound  // the global index of the next kept row read
        while index > 0 && origins[index - 1].prompt == prompts.lowerBound { index -= 1 }
        var reader = try ActivationReader(store: store, capture: capture, hook: hook!, batchSize: step, prompts: prompts)
        var pending: [Float] = []
        var first = 0
        func flush(_ count: Int) throws {
            let chunk = Tensor(shape: [count, d], scalars: Array(pending[0..<(count * d)]))
            pending.removeFirst(count * d)
            try body(first, chunk)
            first += count
        }
        while let batch = try reader.nextBatch() {
            for r in 0..<batch.rows.shape[0] where filter.kept(position: batch.positions[r], token: batch.tokens[r]) {
                if block.contains(index) { pending += batch.rows.scalars[(r * d)..<((r + 1) * d)] }
                index += 1
            }
            while pending.count >= step * d { try flush(step) }
        }
        if !pending.isEmpty { try flush(pending.count / d) }
        guard first == block.count else {
            throw SNMFError.invalidSetting("\(source) changed while it was read: \(first) rows of \(block.lowerBound)..<\(block.upperBound) now, \(block.count) when opened")
        }
    }
}
