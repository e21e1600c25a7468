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
/// seed: prompts in a seeded random order, cut into windows of whole prompts holding at least
/// `window` rows, and the rows of each window in a seeded random order. Batches run across
/// windows; only the last batch may be short.
///
/// A window is held as its prompts' stored bytes back to back (f16 stays f16); a batch
/// decodes its rows straight from there into the batch's float32 rows, so a shuffled read
/// copies each row once from the store and decodes it once, like a read in stored order.
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
    /// Rows emitted so far.
    var emitted = 0
    /// The current window: its rows' stored bytes back to back, each row's entry and index
    /// within the entry, the order to emit them in (empty: as stored), and the next to emit.
    var windowBytes: [UInt8] = []
    var windowByteCount = 0
    var windowRows: [(entry: Int32, row: Int32)] = []
    var windowOrder: [Int32] = []
    var cursor = 0

    /// A reader of `hook` in `capture`, `batchSize` rows at a time; with `prompts`, only the
    /// prompts whose index is in it (one MPI rank's stretch of a capture), whose rows alone
    /// are then looked at and whose blobs alone are read.
    /// - Throws: ``StoreError/notFound(path:what:)`` when the capture lacks the hook, or
    ///   ``StoreError/corruptRow(path:row:reason:)`` when rows of it differ in width (patterns
    ///   of prompts of different lengths).
    public init(store: ActivationStore, capture: CaptureRecord, hook: String, batchSize: Int = 1024,
                order: Order = .stored, prompts: ClosedRange<Int>? = nil) throws {
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
            // From the prompts the capture records, so a missing activation row is an error, not a gap.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.id, a.shape, a.dtype, length(a.data) AS bytes, p.idx, p.line, p.tokens, p.metadata, cp.positions
                FROM capture_prompt cp JOIN prompt p ON p.id = cp.prompt_id
                LEFT JOIN activation a ON a.capture_id = cp.capture_id AND a.prompt_id = cp.prompt_id AND a.hook = ?
                WHERE cp.capture_id = ? AND p.idx BETWEEN ? AND ? ORDER BY p.idx
                """, arguments: [hook, capture.id, prompts?.lowerBound ?? Int.min, prompts?.upperBound ?? Int.max])
            while let row = try rows.next() {
                let r = StoredRow(row: row, path: store.path,
                                  name: "capture \(capture.id) hook \(hook) prompt \(row["idx"] as DatabaseValue) (line \(row["line"] as DatabaseValue))")
                guard !(row["id"] as DatabaseValue).isNull else {
                    throw StoreError.corruptRow(path: store.path, row: r.name, reason: "the capture records this prompt but its activation row is missing; `loupe store verify` lists every such gap")
                }
                let shape = try store.decodeShape(r.text("shape"), row: r.name)
                let rowWidth = StoredShape.count(Array(shape.dropFirst())) ?? 0
                let tokens = try r.int32s("tokens")
                let positions = try store.checkedPositions(r, rows: shape[0], tokens: tokens.count)
                let stored = try r.text("dtype")
                guard stored == capture.dtype.rawValue else { throw r.corrupt("dtype", "is '\(stored)' in a \(capture.dtype.rawValue) capture") }
                let bytes = try r.int("bytes")
                guard let expected = StoredShape.count(shape).flatMap({ StoredShape.bytes($0, capture.dtype.size) }), bytes == expected else {
                    throw r.corrupt("data", "holds \(bytes) bytes for shape \(shape) of \(stored)")
                }
                widths.insert(rowWidth)
                entries.append(Entry(activationID: try r.value("id"), promptIndex: try r.int("idx", atLeast: 0), positions: positions,
                                     tokens: positions.map { tokens[$0] }, metadata: try r.metadata("metadata")))
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
        let n = Swift.min(batchSize, rowCount - emitted)
        guard n > 0 else { return nil }
        var prompts: [Int] = [], positions: [Int] = [], tokens: [Int] = []
        var metadata: [[String: JSONValue]] = []
        prompts.reserveCapacity(n); positions.reserveCapacity(n); tokens.reserveCapacity(n); metadata.reserveCapacity(n)
        let width = self.width, dtype = self.dtype, rowBytes = width * dtype.size
        var filled = 0
        // Every element is written below before the array is returned.
        var scalars = [Float](unsafeUninitializedCapacity: n * width) { _, count in count = n * width }
        while filled < n {
            if cursor == windowRows.count {
                try loadWindow()
                guard !windowRows.isEmpty else {
                    throw StoreError.notFound(path: store.path, what: "\(rowCount - emitted - filled) more rows of hook \(hook)")
                }
            }
            let take = Swift.min(n - filled, windowRows.count - cursor)
            let shuffled = !windowOrder.isEmpty
            windowBytes.withUnsafeBytes { raw in
                scalars.withUnsafeMutableBufferPointer { out in
                    guard shuffled else {
                        // Stored order: the rows are consecutive in the window; one decode.
                        let src = UnsafeRawBufferPointer(rebasing: raw[(cursor * rowBytes)..<((cursor + take) * rowBytes)])
                        let dst = UnsafeMutableBufferPointer(rebasing: out[(filled * width)..<((filled + take) * width)])
                        return dtype.decode(src, count: take * width, into: dst)
                    }
                    // Shuffled: each row decoded from its place in the window into its place
                    // in the batch (faster here than gathering the encoded rows first).
                    windowOrder.withUnsafeBufferPointer { order in
                        for k in 0..<take {
                            let w = Int(order[cursor + k])
                            let dst = UnsafeMutableBufferPointer(rebasing: out[((filled + k) * width)..<((filled + k + 1) * width)])
                            dtype.decode(UnsafeRawBufferPointer(rebasing: raw[(w * rowBytes)..<((w + 1) * rowBytes)]), count: width, into: dst)
                        }
                    }
                }
            }
            entries.withUnsafeBufferPointer { entries in
                for k in 0..<take {
                    let (e, r) = windowRows[shuffled ? Int(windowOrder[cursor + k]) : cursor + k]
                    prompts.append(entries[Int(e)].promptIndex)
                    positions.append(entries[Int(e)].positions[Int(r)])
                    tokens.append(entries[Int(e)].tokens[Int(r)])
                    metadata.append(entries[Int(e)].metadata)
                }
            }
            cursor += take
            filled += take
        }
        emitted += n
        return ActivationBatch(rows: Tensor(shape: [n, width], scalars: scalars), promptIndices: prompts,
                               positions: positions, tokens: tokens, metadata: metadata)
    }

    /// Reads the next window: whole prompts until it holds the window's rows (in stored order
    /// a batch, at least 4096 rows) or none are left; shuffled, also draws the order of its rows.
    mutating func loadWindow() throws {
        let rows: Int
        if case .shuffled(_, let w) = order { rows = Swift.max(w, batchSize) } else { rows = Swift.max(batchSize, 4096) }
        windowRows.removeAll(keepingCapacity: true)
        windowOrder.removeAll(keepingCapacity: true)
        cursor = 0
        let (rowBytes, path) = (width * dtype.size, store.path)
        // The window's size is known from the entries: grow the buffer once (it is reused, so
        // later windows neither allocate nor fault pages in) and copy each blob into place.
        var end = nextEntry, count = 0
        while count < rows && end < entries.count { count += entries[end].positions.count; end += 1 }
        if windowBytes.count < count * rowBytes { windowBytes = [UInt8](repeating: 0, count: count * rowBytes) }
        windowByteCount = 0
        try store.read { db in
            let select = try db.cachedStatement(sql: "SELECT data FROM activation WHERE id = ?")
            while windowRows.count < rows && nextEntry < entries.count {
                let e = entries[nextEntry]
                let bytes = e.positions.count * rowBytes
                let cursor = try Row.fetchCursor(select, arguments: [e.activationID])
                guard let row = try cursor.next() else {
                    throw StoreError.notFound(path: path, what: "activation row \(e.activationID)")
                }
                try row.withUnsafeData(atIndex: 0) { data in
                    guard let data, data.count == bytes else {
                        throw StoreError.corruptRow(path: path, row: "activation \(e.activationID)",
                                                    reason: "\(data?.count ?? 0) bytes, expected \(bytes)")
                    }
                    let offset = windowByteCount
                    windowBytes.withUnsafeMutableBytes { out in
                        data.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + bytes)]).copyMemory(from: $0) }
                    }
                    windowByteCount += bytes
                }
                for r in 0..<e.positions.count { windowRows.append((Int32(nextEntry), Int32(r))) }
                nextEntry += 1
            }
        }
        if case .shuffled = order, windowRows.count > 1 {
            windowOrder = (0..<Int32(windowRows.count)).map { $0 }
            ActivationReader.shuffle(&windowOrder, &rng)
        }
    }
}
