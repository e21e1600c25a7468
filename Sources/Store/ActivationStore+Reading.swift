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
            return rows.map { r in
                CaptureSummary(id: r["id"], model: r["model"], modelHash: r["file_hash"], dataset: r["dataset"],
                               hooks: (try? JSONDecoder().decode([String].self, from: Data((r["hooks"] as String).utf8))) ?? [],
                               positions: r["positions"], dtype: r["dtype"], promptsDone: r["done"],
                               promptsTotal: r["prompt_count"], rowsPerHook: r["rows"], bytes: r["bytes"], created: r["created"])
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
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound(path: path, what: "capture \(id)")
            }
            let hooks = (try? JSONDecoder().decode([String].self, from: Data((r["hooks"] as String).utf8))) ?? []
            return CaptureRecord(id: r["id"], modelID: r["model_id"], datasetID: r["dataset_id"], hooks: hooks,
                                 positions: r["positions"], dtype: ActivationDType(rawValue: r["dtype"]) ?? .f32)
        }
    }

    /// The models that captured into this store.
    public func models() throws -> [ModelIdentity] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM model ORDER BY id").compactMap { r in
                guard let config = try? JSONDecoder().decode(TransformerConfigBox.self, from: Data((r["config"] as String).utf8)) else { return nil }
                return ModelIdentity(name: r["name"], architecture: r["architecture"], path: r["path"], fileHash: r["file_hash"],
                                     fileSize: r["file_size"], tokenizerHash: r["tokenizer_hash"], config: config.value)
            }
        }
    }

    /// The prompts of a dataset, in order.
    public func prompts(dataset: Int64) throws -> [StoredPrompt] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, idx, line, text, tokens, metadata FROM prompt WHERE dataset_id = ? ORDER BY idx",
                             arguments: [dataset]).map(Self.prompt)
        }
    }

    static func prompt(_ r: Row) -> StoredPrompt {
        StoredPrompt(id: r["id"], index: r["idx"], line: r["line"], text: String(decoding: r["text"] as Data, as: UTF8.self),
                     tokens: IntBlob.decode(r["tokens"]), metadata: JSONValue.metadata(r["metadata"]))
    }

    /// The stored activation of `hook` for one prompt, decoded to float32, with the
    /// positions its rows are; nil when the capture does not hold that prompt.
    public func activation(capture: CaptureRecord, hook: String, prompt: Int64) throws -> (tensor: Tensor, positions: [Int])? {
        try read { db in
            guard let r = try Row.fetchOne(db, sql: """
                SELECT a.shape, a.dtype, a.data, cp.positions FROM activation a
                JOIN capture_prompt cp ON cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id
                WHERE a.capture_id = ? AND a.hook = ? AND a.prompt_id = ?
                """, arguments: [capture.id, hook, prompt]) else { return nil }
            let shape = try decodeShape(r["shape"], row: "capture \(capture.id) hook \(hook) prompt \(prompt)")
            let t = try decodeBlob(r["data"], shape: shape, dtype: r["dtype"], row: "capture \(capture.id) hook \(hook) prompt \(prompt)")
            return (t, IntBlob.decode(r["positions"]))
        }
    }

    func decodeShape(_ json: String, row: String) throws -> [Int] {
        guard let shape = try? JSONDecoder().decode([Int].self, from: Data(json.utf8)), shape.allSatisfy({ $0 >= 0 }) else {
            throw StoreError.corruptRow(path: path, row: row, reason: "shape '\(json)' is not a list of sizes")
        }
        return shape
    }

    func decodeBlob(_ data: Data, shape: [Int], dtype: String, row: String) throws -> Tensor {
        guard let type = ActivationDType(rawValue: dtype) else {
            throw StoreError.corruptRow(path: path, row: row, reason: "unknown dtype '\(dtype)'")
        }
        let count = shape.reduce(1, *)
        guard data.count == count * type.size else {
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
