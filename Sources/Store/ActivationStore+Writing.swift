import Models
import Foundation
import GRDB

extension ActivationStore {
    /// The row id of `model` in this store, adding it if new.
    ///
    /// A store holds captures of one model unless `allowMismatch` is true: a model whose file
    /// or tokenizer hash differs from the stored one is refused.
    /// - Throws: ``StoreError/modelMismatch(path:stored:storedHash:given:givenHash:)`` or
    ///   ``StoreError/tokenizerMismatch(path:storedHash:givenHash:)``.
    public func register(_ model: ModelIdentity, allowMismatch: Bool = false) throws -> Int64 {
        try write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM model WHERE file_hash = ? AND tokenizer_hash = ?",
                                           arguments: [model.fileHash, model.tokenizerHash]) { return id }
            if !allowMismatch, let row = try Row.fetchOne(db, sql: "SELECT name, path, file_hash, tokenizer_hash FROM model ORDER BY id LIMIT 1") {
                let other = StoredRow(row: row, path: path, name: "the store's first model")
                let storedHash = try other.text("file_hash")
                if storedHash == model.fileHash {
                    throw StoreError.tokenizerMismatch(path: path, storedHash: try other.text("tokenizer_hash"), givenHash: model.tokenizerHash)
                }
                throw StoreError.modelMismatch(path: path, stored: "\(try other.text("name")) (\(try other.text("path")))",
                                               storedHash: storedHash, given: "\(model.name) (\(model.path))",
                                               givenHash: model.fileHash)
            }
            try db.execute(sql: """
                INSERT INTO model (name, architecture, path, file_hash, file_size, tokenizer_hash, config)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [model.name, model.architecture, model.path, model.fileHash, model.fileSize,
                                 model.tokenizerHash, JSONValue.encode(model.config)])
            return db.lastInsertedRowID
        }
    }

    /// The dataset holding exactly these prompts (tokenized as `encoding` says with the
    /// tokenizer `tokenizerHash`), inserting it and all its prompts in one transaction if new.
    /// Returns the dataset's id and its prompts in order.
    public func dataset(name: String, source: String, encoding: String, tokenizerHash: String,
                        prompts: [(record: PromptRecord, tokens: [Int])]) throws -> (id: Int64, prompts: [StoredPrompt]) {
        var hash = ContentHash()
        hash.combine(tokenizerHash)
        hash.combine(encoding)
        for p in prompts {
            hash.combine(p.record.text)
            hash.combine(JSONValue.encode(p.record.metadata))
            hash.combine(p.tokens.count)
            IntBlob.encode(p.tokens).withUnsafeBytes { hash.combine($0) }
        }
        let id: Int64 = try write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE content_hash = ?", arguments: [hash.hex]) {
                return id
            }
            try db.execute(sql: """
                INSERT INTO dataset (name, source, content_hash, encoding, prompt_count, token_count)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [name, source, hash.hex, encoding, prompts.count, prompts.reduce(0) { $0 + $1.tokens.count }])
            let id = db.lastInsertedRowID
            let insert = try db.makeStatement(sql: """
                INSERT INTO prompt (dataset_id, idx, line, text, tokens, metadata) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (i, p) in prompts.enumerated() {
                try insert.execute(arguments: [id, i, p.record.line, Data(p.record.text.utf8),
                                                IntBlob.encode(p.tokens), JSONValue.encode(p.record.metadata)])
            }
            return id
        }
        return (id, try self.prompts(dataset: id))
    }

    /// The capture of `hooks` at `positions` in `dtype` for this model and dataset, created if new.
    public func capture(model: Int64, dataset: Int64, hooks: [String], positions: String,
                        dtype: ActivationDType) throws -> CaptureRecord {
        let hooksJSON = JSONValue.encode(hooks)
        let id: Int64 = try write { db in
            let args: StatementArguments = [model, dataset, hooksJSON, positions, dtype.rawValue]
            if let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM capture WHERE model_id = ? AND dataset_id = ? AND hooks = ? AND positions = ? AND dtype = ?
                """, arguments: args) { return id }
            try db.execute(sql: "INSERT INTO capture (model_id, dataset_id, hooks, positions, dtype) VALUES (?, ?, ?, ?, ?)",
                           arguments: args)
            return db.lastInsertedRowID
        }
        return CaptureRecord(id: id, modelID: model, datasetID: dataset, hooks: hooks, positions: positions, dtype: dtype)
    }

    /// Ids of the prompts `capture` holds whole.
    public func completedPrompts(capture: Int64) throws -> Set<Int64> {
        try read { Set(try Int64.fetchAll($0, sql: "SELECT prompt_id FROM capture_prompt WHERE capture_id = ?", arguments: [capture])) }
    }

    /// Which of `ids` `capture` holds whole (one query for a batch's prompts, however large the capture).
    public func completedPrompts(capture: Int64, among ids: [Int64]) throws -> Set<Int64> {
        try read {
            Set(try Int64.fetchAll($0, sql: """
                SELECT prompt_id FROM capture_prompt WHERE capture_id = ? AND prompt_id IN (SELECT value FROM json_each(?))
                """, arguments: [capture, JSONValue.encode(ids)]))
        }
    }

    /// Writes a batch of captured prompts in one transaction: all of it or, if the process
    /// dies or anything throws, none of it. Prompts another process already committed to the
    /// capture are skipped (their bits are the same: batches are cut the same way in every
    /// process), so several captures into one store finish it together. Claims on the batch's
    /// prompts end in the same transaction. Returns the ids of the prompts written.
    @discardableResult
    public func append(_ batch: [CapturedPrompt], to capture: CaptureRecord) throws -> Set<Int64> {
        try write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO activation (capture_id, hook, prompt_id, shape, dtype, data) VALUES (?, ?, ?, ?, ?, ?)
                """)
            let done = try db.cachedStatement(sql: "INSERT INTO capture_prompt (capture_id, prompt_id, positions) VALUES (?, ?, ?)")
            let held = try db.cachedStatement(sql: "SELECT 1 FROM capture_prompt WHERE capture_id = ? AND prompt_id = ?")
            let unclaim = try db.cachedStatement(sql: "DELETE FROM capture_claim WHERE capture_id = ? AND prompt_id = ?")
            var written = Set<Int64>()
            for prompt in batch {
                try unclaim.execute(arguments: [capture.id, prompt.promptID])
                if try Int.fetchOne(held, arguments: [capture.id, prompt.promptID]) != nil { continue }
                written.insert(prompt.promptID)
                for a in prompt.activations {
                    insert.setUncheckedArguments([capture.id, a.hook, prompt.promptID, JSONValue.encode(a.shape),
                                                  capture.dtype.rawValue, a.data])
                    try insert.execute()
                }
                try done.execute(arguments: [capture.id, prompt.promptID, IntBlob.encode(prompt.positions)])
            }
            return written
        }
    }
}
