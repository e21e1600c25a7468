import Models
import Foundation
import GRDB
import Linalg

/// A batch of activation rows from ``ActivationReader``: `[rows, width]` plus, per row, the
/// prompt it came from, its position and token, and the prompt's metadata (labels).
public struct ActivationBatch: Sendable {
    /// `[rows, width]` float32 (per-head points flattened: width = heads * headDim).
    public var rows: Tensor
    /// Per row: the prompt's 0-based index in its dataset.
    public var promptIndices: [Int]
    /// Per row: absolute token position.
    public var positions: [Int]
    /// Per row: token id at that position.
    public var tokens: [Int]
    /// Per row: the prompt's metadata (labels, subject, ...).
    public var metadata: [[String: JSONValue]]

    /// Per row, metadata field `name` as a number (nil where absent or not numeric).
    public func label(_ name: String) -> [Double?] { metadata.map { $0[name]?.number } }
}

/// Streams one hook's stored activations as `[rows, width]` batches, reading prompt by prompt
/// (never the whole store) from a snapshot taken at creation, so a capture may keep writing.
///
/// Order is either the stored one (dataset order, positions ascending) or shuffled with a
/// seed: prompts in a seeded random order, then rows shuffled within a window of
/// `shuffleWindow` rows. The last batch may be short.
public struct ActivationReader: Sequence, IteratorProtocol {
    public enum Order: Sendable, Equatable {
        case stored
        case shuffled(seed: UInt64, window: Int = 65_536)
    }

    /// One stored activation row group: a prompt's rows for this hook.
    struct Entry {
        let activationID: Int64
        let promptIndex: Int
        let positions: [Int]
        let tokens: [Int]
        let metadata: [String: JSONValue]
    }

    let store: ActivationStore
    let hook: String
    let dtype: ActivationDType
    /// Row width (elements per position).
    public let width: Int
    /// Rows in total.
    public let rowCount: Int
    let batchSize: Int
    let order: Order
    var entries: [Entry]
    var nextEntry = 0
    var rng: SeededRandom
    // Pending rows not yet emitted: pending[offset*width...]
    var pending: [Float] = []
    var pendingInfo: [(prompt: Int, position: Int, token: Int, entry: Int)] = []
    var offset = 0

    /// A reader of `hook` in `capture`, `batchSize` rows at a time.
    /// - Throws: ``StoreError/notFound(path:what:)`` when the capture lacks the hook, or
    ///   ``StoreError/corruptRow(path:row:reason:)`` when rows of it differ in width (patterns
    ///   of prompts of different lengths).
    public init(store: ActivationStore, capture: CaptureRecord, hook: String, batchSize: Int = 1024,
                order: Order = .stored) throws {
        precondition(batchSize > 0, "batch size \(batchSize)")
        guard capture.hooks.contains(hook) else {
            throw StoreError.notFound(path: store.path, what: "hook '\(hook)' in capture \(capture.id) (it has \(capture.hooks.joined(separator: ", ")))")
        }
        self.store = store
        self.hook = hook
        self.dtype = capture.dtype
        self.batchSize = batchSize
        self.order = order
        var widths = Set<Int>()
        var entries: [Entry] = []
        try store.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.id, a.shape, p.idx, p.tokens, p.metadata, cp.positions FROM activation a
                JOIN capture_prompt cp ON cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id
                JOIN prompt p ON p.id = a.prompt_id
                WHERE a.capture_id = ? AND a.hook = ? ORDER BY p.idx
                """, arguments: [capture.id, hook])
            while let r = try rows.next() {
                let shape = try store.decodeShape(r["shape"], row: "activation \(r["id"] as Int64)")
                widths.insert(shape.dropFirst().reduce(1, *))
                let positions = IntBlob.decode(r["positions"])
                let tokens = IntBlob.decode(r["tokens"])
                entries.append(Entry(activationID: r["id"], promptIndex: r["idx"], positions: positions,
                                     tokens: positions.map { $0 < tokens.count ? tokens[$0] : -1 },
                                     metadata: JSONValue.metadata(r["metadata"])))
            }
        }
        guard widths.count <= 1 else {
            throw StoreError.corruptRow(path: store.path, row: "hook \(hook)", reason: "rows of widths \(widths.sorted()) cannot stream as one matrix")
        }
        width = widths.first ?? 0
        rowCount = entries.reduce(0) { $0 + $1.positions.count }
        var rng = SeededRandom(seed: 0)
        if case .shuffled(let seed, _) = order {
            rng = SeededRandom(seed: seed)
            ActivationReader.shuffle(&entries, &rng)
        }
        self.rng = rng
        self.entries = entries
    }

    /// Fisher–Yates with our own generator, so an order depends only on the seed.
    static func shuffle<T>(_ a: inout [T], _ rng: inout SeededRandom) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
    }

    /// The next batch, or nil at the end. Read errors end the stream; use ``nextBatch()`` to see them.
    public mutating func next() -> ActivationBatch? { try? nextBatch() }

    /// The next batch, or nil at the end.
    /// - Throws: ``StoreError`` when a row cannot be read or does not match its shape.
    public mutating func nextBatch() throws -> ActivationBatch? {
        let window: Int
        if case .shuffled(_, let w) = order { window = Swift.max(w, batchSize) } else { window = batchSize }
        if pendingInfo.count - offset < batchSize && nextEntry < entries.count {
            try refill(upTo: window)
            if case .shuffled = order { shufflePending() }
        }
        let available = pendingInfo.count - offset
        guard available > 0 else { return nil }
        let n = Swift.min(batchSize, available)
        let range = offset..<(offset + n)
        let info = pendingInfo[range]
        let batch = ActivationBatch(
            rows: Tensor(shape: [n, width], scalars: Array(pending[(offset * width)..<((offset + n) * width)])),
            promptIndices: info.map(\.prompt), positions: info.map(\.position), tokens: info.map(\.token),
            metadata: info.map { entries[$0.entry].metadata })
        offset += n
        return batch
    }

    /// Drops emitted rows and reads prompts until `rows` rows are pending or none are left.
    mutating func refill(upTo rows: Int) throws {
        pending.removeFirst(offset * width)
        pendingInfo.removeFirst(offset)
        offset = 0
        let (width, dtype, path) = (self.width, self.dtype, store.path)
        try store.read { db in
            let select = try db.cachedStatement(sql: "SELECT data FROM activation WHERE id = ?")
            while pendingInfo.count < rows && nextEntry < entries.count {
                let e = entries[nextEntry]
                let count = e.positions.count * width
                let cursor = try Row.fetchCursor(select, arguments: [e.activationID])
                guard let row = try cursor.next() else {
                    throw StoreError.notFound(path: path, what: "activation row \(e.activationID)")
                }
                let start = pending.count
                pending.append(contentsOf: repeatElement(0, count: count))
                try row.withUnsafeData(atIndex: 0) { data in
                    guard let data, data.count == count * dtype.size else {
                        throw StoreError.corruptRow(path: path, row: "activation \(e.activationID)",
                                                    reason: "\(data?.count ?? 0) bytes, expected \(count * dtype.size)")
                    }
                    data.withUnsafeBytes { raw in
                        pending.withUnsafeMutableBufferPointer { buf in
                            dtype.decode(raw, count: count, into: UnsafeMutableBufferPointer(rebasing: buf[start...]))
                        }
                    }
                }
                for (i, p) in e.positions.enumerated() {
                    pendingInfo.append((prompt: e.promptIndex, position: p, token: e.tokens[i], entry: nextEntry))
                }
                nextEntry += 1
            }
        }
    }

    /// Shuffles the pending rows in place (rows and their info together).
    mutating func shufflePending() {
        let n = pendingInfo.count
        guard n > 1 else { return }
        var order = Array(0..<n)
        ActivationReader.shuffle(&order, &rng)
        var rows = [Float](repeating: 0, count: pending.count)
        pending.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for (to, from) in order.enumerated() {
                    for j in 0..<width { dst[to * width + j] = src[from * width + j] }
                }
            }
        }
        pending = rows
        pendingInfo = order.map { pendingInfo[$0] }
    }
}
