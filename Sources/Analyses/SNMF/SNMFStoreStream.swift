import Foundation
import Linalg
import Store

/// One hook of a store capture as ``SNMFChunks``: every row but position 0 and special tokens
/// (``SNMFLeftOut``), in stored order, decoded a chunk at a time by ``ActivationReader`` on each
/// pass. Opening it reads the capture once, a stretch of prompts at a time, to count the rows and
/// check they are finite; what it keeps is 16 bytes per prompt (``SNMFPromptRuns``), so its
/// memory does not grow with the rows. Where a row came from (position, token, prompt text) is
/// read back from the store for the rows a report shows (``origins(of:)``).
public struct SNMFStoreStream: SNMFChunks {
    let store: ActivationStore
    let capture: CaptureRecord
    public let source: String
    public let hook: String?
    public let tokens: Int
    public let neurons: Int
    let runs: SNMFPromptRuns
    public let leftOut: SNMFLeftOut?
    let filter: SNMFRowFilter

    /// - Parameter stretch: prompts read at a time while opening (bounds the reader's per-prompt
    ///   bookkeeping, about 16 bytes per row of the stretch).
    /// - Throws: `StoreError` when the store, capture or hook is missing; ``SNMFError`` when
    ///   no row is left after position 0 and `specialIDs` or a row is not finite.
    public init(store path: String, capture id: Int64?, hook: String, specialIDs: [Int] = [], stretch: Int = 4096) throws {
        guard stretch >= 1 else { throw SNMFError.invalidSetting("stretch \(stretch) must be at least 1") }
        store = try ActivationStore(path: path)
        let summary = try store.captureSummary(choosing: id)
        capture = try store.capture(id: summary.id)
        self.hook = hook
        let name = "\(URL(fileURLWithPath: path).lastPathComponent) capture \(summary.id) \(hook)"
        source = name
        var runs = SNMFPromptRuns()
        var filter = SNMFRowFilter(specialIDs: specialIDs)
        var width: Int? = nil
        if let all = try store.promptIndexRange(capture: capture) {
            for lower in stride(from: all.lowerBound, through: all.upperBound, by: stretch) {
                let upper = lower + min(all.upperBound - lower, stretch - 1)
                var reader = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 4096, prompts: lower...upper)
                guard reader.rowCount > 0 else { continue }
                if let width, width != reader.width {
                    throw StoreError.corruptRow(path: path, row: "hook \(hook)", reason: "rows of widths \(width) and \(reader.width) cannot stream as one matrix")
                }
                width = reader.width
                let d = reader.width
                while let batch = try reader.nextBatch() {
                    try batch.rows.withUnsafeBufferPointer { x in
                        for r in 0..<batch.rows.shape[0] where filter.keeps(position: batch.positions[r], token: batch.tokens[r]) {
                            for j in 0..<d where !x[r * d + j].isFinite { throw SNMFError.nonFiniteRow(row: runs.rows, source: name) }
                            runs.appendRow(prompt: batch.promptIndices[r])
                        }
                    }
                }
            }
        }
        neurons = width ?? 0
        guard runs.rows > 0, neurons > 0 else { throw SNMFError.empty("\(name) holds no rows but position 0 and special tokens") }
        tokens = runs.rows
        self.runs = runs
        self.filter = filter
        leftOut = filter.leftOut
    }

    public var hasOrigins: Bool { true }

    /// Reads back the position and token of each of `rows` and the text and tokens of their
    /// prompts: one stored activation per prompt involved (its positions), nothing else.
    /// - Throws: `StoreError` for a failed read; ``SNMFError/invalidSetting(_:)`` for a row out of
    ///   range or a store that changed since it was opened.
    public func origins(of rows: Set<Int>) throws -> SNMFRowOrigins {
        var byPrompt: [Int: [Int]] = [:]
        for row in rows {
            guard row >= 0 && row < tokens else { throw SNMFError.invalidSetting("row \(row) of \(tokens) in \(source)") }
            byPrompt[runs.prompt(ofRow: row), default: []].append(row)
        }
        var result = SNMFRowOrigins()
        for p in try store.prompts(dataset: capture.datasetID, indices: byPrompt.keys.sorted()) {
            guard let wanted = byPrompt[p.index] else { continue }
            guard let stored = try store.activation(capture: capture, hook: hook!, prompt: p.id) else {
                throw SNMFError.invalidSetting("\(source) changed while it was read: prompt \(p.index) has no activation now")
            }
            let first = runs.firstRow(ofPromptOf: wanted[0])
            var kept: [SNMFRows.Origin] = []
            for position in stored.positions where filter.kept(position: position, token: p.tokens[position]) {
                kept.append(SNMFRows.Origin(prompt: p.index, position: position, token: p.tokens[position]))
            }
            for row in wanted {
                guard row - first < kept.count else {
                    throw SNMFError.invalidSetting("\(source) changed while it was read: prompt \(p.index) keeps \(kept.count) rows now")
                }
                result.rows[row] = kept[row - first]
            }
            result.prompts[p.index] = (p.text, p.tokens)
        }
        guard result.rows.count == rows.count else {
            throw SNMFError.invalidSetting("\(source) changed while it was read: \(rows.count - result.rows.count) rows' prompts are gone")
        }
        return result
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
        let prompts = runs.prompt(ofRow: block.lowerBound)...runs.prompt(ofRow: block.upperBound - 1)
        var index = runs.firstRow(ofPromptOf: block.lowerBound)  // the global index of the next kept row read
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
