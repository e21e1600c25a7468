import Foundation
import GRDB
import Linalg
import Models

/// What `loupe store ls` shows for one capture.
public struct CaptureSummary: Sendable, Codable, Equatable {
    public var id: Int64
    public var model: String
    public var modelHash: String
    public var dataset: String
    public var hooks: [String]
    public var positions: String
    public var dtype: String
    /// Prompts held whole, and in the dataset.
    public var promptsDone: Int
    public var promptsTotal: Int
    /// Activation rows (kept positions) per hook.
    public var rowsPerHook: Int
    /// Bytes of activation data.
    public var bytes: Int64
    public var created: String
}

extension ActivationStore {
    /// Every capture, oldest first, with its progress and size.
    public func captures() throws -> [CaptureSummary] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.id, c.hooks, c.positions, c.dtype, c.created, m.name AS model, m.file_hash,
                       d.name AS dataset, d.prompt_count,
                       (SELECT count(*) FROM capture_prompt cp WHERE cp.capture_id = c.id) AS done,
                       (SELECT coalesce(sum(length(cp.positions)) / 4, 0) FROM capture_prompt cp WHERE cp.capture_id = c.id) AS rows,
                       (SELECT coalesce(sum(length(a.data)), 0) FROM activation a WHERE a.capture_id = c.id) AS bytes
                FROM capture c JOIN model m ON m.id = c.model_id JOIN dataset d ON d.id = c.dataset_id
                ORDER BY c.id
                """)
            return try rows.map { row in
                let r = StoredRow(row: row, path: path, name: "capture \(row["id"] as DatabaseValue)")
                return CaptureSummary(id: try r.value("id"), model: try r.text("model"), modelHash: try r.text("file_hash"),
                                      dataset: try r.text("dataset"), hooks: try r.json("hooks", as: [String].self),
                                      positions: try r.text("positions"), dtype: try r.text("dtype"),
                                      promptsDone: try r.int("done"), promptsTotal: try r.int("prompt_count", atLeast: 0),
                                      rowsPerHook: try r.int("rows"), bytes: try r.value("bytes"), created: try r.text("created"))
            }
        }
    }

    /// The summary of capture `id`, or of the store's only capture when `id` is nil.
    /// - Throws: ``StoreError/notFound(path:what:)`` when `id` names no capture or the store
    ///   holds none; ``StoreError/ambiguousCapture(path:ids:)`` when `id` is nil and it holds several.
    public func captureSummary(choosing id: Int64?) throws -> CaptureSummary {
        let all = try captures()
        if let id {
            guard let c = all.first(where: { $0.id == id }) else { throw StoreError.notFound(path: path, what: "capture \(id)") }
            return c
        }
        guard let only = all.first else { throw StoreError.notFound(path: path, what: "captures (the store is empty)") }
        guard all.count == 1 else { throw StoreError.ambiguousCapture(path: path, ids: all.map(\.id)) }
        return only
    }

    /// The capture with id `id`.
    /// - Throws: ``StoreError/notFound(path:what:)``.
    public func capture(id: Int64) throws -> CaptureRecord {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound(path: path, what: "capture \(id)")
            }
            let r = StoredRow(row: row, path: path, name: "capture \(id)")
            let dtype = try r.text("dtype")
            guard let type = ActivationDType(rawValue: dtype) else { throw r.corrupt("dtype", "names no activation type: '\(dtype)'") }
            return CaptureRecord(id: id, modelID: try r.value("model_id"), datasetID: try r.value("dataset_id"),
                                 hooks: try r.json("hooks", as: [String].self), positions: try r.text("positions"), dtype: type)
        }
    }

    /// The models that captured into this store.
    public func models() throws -> [ModelIdentity] {
        try read { db in
            try db.storedRows("SELECT * FROM model ORDER BY id", path: path, name: { "model \($0["id"] as DatabaseValue)" }).compactMap { r in
                // A config this build no longer decodes skips its model; every other field must be sound.
                let (name, architecture, file) = (try r.text("name"), try r.text("architecture"), try r.text("path"))
                let (hash, size, tokenizer) = (try r.text("file_hash"), try r.value("file_size", as: Int64.self), try r.text("tokenizer_hash"))
                guard let config = try? r.json("config", as: TransformerConfigBox.self) else { return nil }
                return ModelIdentity(name: name, architecture: architecture, path: file, fileHash: hash, fileSize: size,
                                     tokenizerHash: tokenizer, config: config.value)
            }
        }
    }

    /// The prompts of a dataset, in order.
    public func prompts(dataset: Int64) throws -> [StoredPrompt] {
        try read { db in
            try db.storedRows("SELECT id, idx, line, text, tokens, metadata FROM prompt WHERE dataset_id = ? ORDER BY idx",
                              [dataset], path: path, name: { "prompt \($0["idx"] as DatabaseValue) of dataset \(dataset)" }).map(Self.prompt)
        }
    }

    /// The prompts of a dataset whose indices are in `indices`, in index order (indices the
    /// dataset lacks are skipped): a report reads back the few prompts it shows this way.
    public func prompts(dataset: Int64, indices: [Int]) throws -> [StoredPrompt] {
        var found: [StoredPrompt] = []
        for part in stride(from: 0, to: indices.count, by: 500).map({ Array(indices[$0..<min(indices.count, $0 + 500)]) }) {
            let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
            let arguments = StatementArguments([dataset] + part.map { Int64($0) })
            found += try read { db in
                try db.storedRows("SELECT id, idx, line, text, tokens, metadata FROM prompt WHERE dataset_id = ? AND idx IN (\(marks))",
                                  arguments, path: path, name: { "prompt \($0["idx"] as DatabaseValue) of dataset \(dataset)" }).map(Self.prompt)
            }
        }
        return found.sorted { $0.index < $1.index }
    }

    /// The lowest and highest index of the prompts capture `capture` records; nil when it records none.
    public func promptIndexRange(capture: CaptureRecord) throws -> ClosedRange<Int>? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT MIN(p.idx) AS lo, MAX(p.idx) AS hi FROM capture_prompt cp JOIN prompt p ON p.id = cp.prompt_id
                WHERE cp.capture_id = ?
                """, arguments: [capture.id]), !(row["lo"] as DatabaseValue).isNull else { return nil }
            let r = StoredRow(row: row, path: path, name: "capture \(capture.id)'s prompt indices")
            let (lo, hi) = (try r.int("lo", atLeast: 0), try r.int("hi", atLeast: 0))
            guard lo <= hi else { throw r.corrupt("hi", "is below the lowest index \(lo)") }
            return lo...hi
        }
    }

    static func prompt(_ r: StoredRow) throws -> StoredPrompt {
        StoredPrompt(id: try r.value("id"), index: try r.int("idx", atLeast: 0), line: try r.int("line"),
                     text: String(decoding: try r.value("text", as: Data.self), as: UTF8.self),
                     tokens: try r.int32s("tokens"), metadata: try r.metadata("metadata"))
    }

    /// The stored activation of `hook` for one prompt, decoded to float32, with the
    /// positions its rows are; nil when the capture does not hold that prompt.
    public func activation(capture: CaptureRecord, hook: String, prompt: Int64) throws -> (tensor: Tensor, positions: [Int])? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT a.shape, a.dtype, a.data, cp.positions, p.tokens FROM activation a
                JOIN capture_prompt cp ON cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id
                JOIN prompt p ON p.id = a.prompt_id
                WHERE a.capture_id = ? AND a.hook = ? AND a.prompt_id = ?
                """, arguments: [capture.id, hook, prompt]) else { return nil }
            let r = StoredRow(row: row, path: path, name: "capture \(capture.id) hook \(hook) prompt \(prompt)")
            let shape = try decodeShape(r.text("shape"), row: r.name)
            let positions = try checkedPositions(r, rows: shape.first ?? 0, tokens: try r.int32s("tokens").count)
            let t = try decodeBlob(r.value("data"), shape: shape, dtype: r.text("dtype"), row: r.name)
            return (t, positions)
        }
    }

    /// A stored shape: a nonempty JSON list of sizes whose product fits in memory arithmetic.
    func decodeShape(_ json: String, row: String) throws -> [Int] {
        guard let shape = try? JSONDecoder().decode([Int].self, from: Data(json.utf8)), !shape.isEmpty,
              let count = StoredShape.count(shape), StoredShape.bytes(count, 4) != nil else {
            throw StoreError.corruptRow(path: path, row: row, reason: "shape '\(StoredRow.clip(json))' is not a list of sizes whose product fits in 64 bits")
        }
        return shape
    }

    /// The positions a capture kept for a prompt: one per stored row, each a position of the prompt.
    func checkedPositions(_ r: StoredRow, rows: Int, tokens: Int) throws -> [Int] {
        let positions = try r.int32s("positions")
        guard positions.count == rows else {
            throw r.corrupt("positions", "lists \(positions.count) positions for \(rows) stored rows")
        }
        if let bad = positions.first(where: { $0 < 0 || $0 >= tokens }) {
            throw r.corrupt("positions", "holds position \(bad), outside the prompt's \(tokens) tokens")
        }
        return positions
    }

    func decodeBlob(_ data: Data, shape: [Int], dtype: String, row: String) throws -> Tensor {
        guard let type = ActivationDType(rawValue: dtype) else {
            throw StoreError.corruptRow(path: path, row: row, reason: "unknown dtype '\(dtype)'")
        }
        guard let count = StoredShape.count(shape), let bytes = StoredShape.bytes(count, type.size), data.count == bytes else {
            throw StoreError.corruptRow(path: path, row: row, reason: "\(data.count) bytes for shape \(shape) of \(dtype)")
        }
        var scalars = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in scalars.withUnsafeMutableBufferPointer { type.decode(raw, count: count, into: $0) } }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// Decodes a stored config (kept apart so a config that no longer decodes skips its model).
struct TransformerConfigBox: Decodable {
    let value: TransformerConfig
    init(from decoder: any Decoder) throws { value = try TransformerConfig(from: decoder) }
}
