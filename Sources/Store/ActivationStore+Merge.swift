import Foundation
import GRDB

/// What `ActivationStore.merge` wrote.
public struct StoreMergeSummary: Sendable, Encodable {
    public var store: String
    public var inputs: [String]
    public var captures: Int
    public var prompts: Int
    public var activationRows: Int
}

extension ActivationStore {
    /// Joins the stores of every shard of one or more captures (`loupe capture --shard I/N`)
    /// into a new store at `out` equal to the one a single process writes: the same models,
    /// datasets, prompts and captures, and the activation rows copied byte for byte in the
    /// order (and so with the row ids) one process commits them, batch by batch.
    ///
    /// The inputs must hold the same captures (model and tokenizer hashes, dataset content,
    /// hooks, positions, dtype), each made with `--shard` with one split (shard count and
    /// batching), every shard once and finished. The new store is built beside `out` and
    /// renamed into place when complete, so an interrupted merge leaves nothing at `out`.
    /// Memory holds one batch of rows.
    /// - Throws: ``StoreError/badShard(_:)`` naming the stores and shards that are missing,
    ///   given twice, unfinished or of another job; ``StoreError`` when a file is not a store.
    public static func merge(into out: String, from inputs: [String],
                             progress: (String) -> Void = { _ in }) throws -> StoreMergeSummary {
        guard !inputs.isEmpty else { throw StoreError.badShard("no shard stores to merge") }
        if FileManager.default.fileExists(atPath: out) {
            throw StoreError.badShard("\(out) exists: a merge writes a new store (choose another path or remove it)")
        }
        if let twice = Dictionary(grouping: inputs, by: { URL(fileURLWithPath: $0).standardized.path }).first(where: { $0.value.count > 1 }) {
            throw StoreError.badShard("\(twice.key) is given \(twice.value.count) times")
        }
        let stores = try inputs.map { try ActivationStore(path: $0) }
        let plan = try MergePlan(stores)
        let partial = out + ".partial"
        for p in [partial, partial + "-wal", partial + "-shm"] where FileManager.default.fileExists(atPath: p) {
            try FileManager.default.removeItem(atPath: p)
        }
        var rows = 0
        do {
            let merged = try ActivationStore(path: partial, create: true)
            try plan.copyDefinitions(into: merged)
            for (c, capture) in plan.captures.enumerated() {
                rows += try plan.copyRows(of: capture, number: c, into: merged, progress: progress)
            }
            try merged.mapped { try merged.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") } }
            let problems = try merged.verify()
            if !problems.isEmpty { throw StoreError.badShard("the merged store fails its checks: \(problems.prefix(3).joined(separator: "; "))") }
        }
        try FileManager.default.moveItem(atPath: partial, toPath: out)
        for p in [partial + "-wal", partial + "-shm"] { try? FileManager.default.removeItem(atPath: p) }
        return StoreMergeSummary(store: out, inputs: inputs, captures: plan.captures.count,
                                 prompts: plan.captures.reduce(0) { $0 + $1.batches.joined().count }, activationRows: rows)
    }
}

/// The checked plan of a merge: which captures, which store holds each batch.
private struct MergePlan {
    struct Key: Hashable {
        var fileHash: String, tokenizerHash: String, dataset: String, hooks: String, positions: String, dtype: String
    }
    struct Capture {
        var key: Key
        /// Per input store: the capture's id and its dataset's id there.
        var ids: [(capture: Int64, dataset: Int64)]
        var split: CaptureShardPlan
        /// The capture's batches of prompt indices, in order; batch b is shard b mod count's.
        var batches: [[Int]]
        /// Which input holds shard i.
        var storeOfShard: [Int]
    }

    let stores: [ActivationStore]
    var captures: [Capture] = []

    init(_ stores: [ActivationStore]) throws {
        self.stores = stores
        var perStore: [[Key: (Int64, Int64)]] = []
        var order: [Key] = []
        for (s, store) in stores.enumerated() {
            let rows = try store.read { db in
                try db.storedRows("""
                    SELECT c.id, c.dataset_id, c.hooks, c.positions, c.dtype, m.file_hash, m.tokenizer_hash, d.content_hash
                    FROM capture c JOIN model m ON m.id = c.model_id JOIN dataset d ON d.id = c.dataset_id ORDER BY c.id
                    """, path: store.path, name: { "capture \($0["id"] as DatabaseValue)" })
            }
            var keys: [Key: (Int64, Int64)] = [:]
            for r in rows {
                let key = Key(fileHash: try r.text("file_hash"), tokenizerHash: try r.text("tokenizer_hash"),
                              dataset: try r.text("content_hash"), hooks: try r.text("hooks"),
                              positions: try r.text("positions"), dtype: try r.text("dtype"))
                keys[key] = (try r.value("id"), try r.value("dataset_id"))
                if s == 0 { order.append(key) }
            }
            if keys.isEmpty { throw StoreError.badShard("\(store.path) holds no capture") }
            if s > 0 && Set(keys.keys) != Set(perStore[0].keys) {
                throw StoreError.badShard("\(store.path) and \(stores[0].path) hold different captures (model, dataset, hooks, positions or dtype): only shards of the same captures merge")
            }
            perStore.append(keys)
        }
        for key in order {
            let ids = perStore.map { (capture: $0[key]!.0, dataset: $0[key]!.1) }
            captures.append(try Self.checked(key, ids: ids, stores: stores))
        }
    }

    /// One capture's shards: one split, every shard once, each finished and nothing more.
    static func checked(_ key: Key, ids: [(capture: Int64, dataset: Int64)], stores: [ActivationStore]) throws -> Capture {
        let what = "capture of \(key.hooks)"
        var plans: [CaptureShardPlan] = []
        for (s, store) in stores.enumerated() {
            guard let p = try store.shardPlan(capture: ids[s].capture) else {
                throw StoreError.badShard("\(store.path): the \(what) was not made with --shard: there is nothing to merge it with")
            }
            if let first = plans.first, !first.sameSplit(as: p) {
                throw StoreError.badShard("\(store.path) holds shard \(p.shard) (batches of \(p.batchSize)/\(p.batchTokens)) but \(stores[0].path) holds shard \(first.shard) (batches of \(first.batchSize)/\(first.batchTokens)): the splits differ")
            }
            plans.append(p)
        }
        let count = plans[0].shard.count
        var storeOfShard = [Int](repeating: -1, count: count)
        for (s, p) in plans.enumerated() {
            if storeOfShard[p.shard.index] >= 0 {
                throw StoreError.badShard("shard \(p.shard) is given twice: \(stores[storeOfShard[p.shard.index]].path) and \(stores[s].path)")
            }
            storeOfShard[p.shard.index] = s
        }
        let missing = storeOfShard.indices.filter { storeOfShard[$0] < 0 }
        if !missing.isEmpty {
            throw StoreError.badShard("missing shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) of the \(what)")
        }
        let tokenCounts = try stores[0].read { db in
            try Int.fetchAll(db, sql: "SELECT length(tokens) / 4 FROM prompt WHERE dataset_id = ? ORDER BY idx", arguments: [ids[0].dataset])
        }
        let split = plans[0]
        let batches = Capturer.batches(tokenCounts: tokenCounts, batchSize: split.batchSize, batchTokens: split.batchTokens,
                                       maxTokens: split.maxTokens)
        for (s, store) in stores.enumerated() {
            let shard = plans[s].shard
            let owned = Set(batches.enumerated().filter { shard.owns($0.offset) }.flatMap(\.element))
            let held = Set(try store.read { db in
                try Int.fetchAll(db, sql: """
                    SELECT p.idx FROM capture_prompt cp JOIN prompt p ON p.id = cp.prompt_id WHERE cp.capture_id = ?
                    """, arguments: [ids[s].capture])
            })
            if let stray = held.subtracting(owned).min() {
                throw StoreError.badShard("\(store.path): shard \(shard) holds prompt \(stray), which is not its own")
            }
            if held.count < owned.count {
                throw StoreError.badShard("\(store.path): shard \(shard) is unfinished: \(held.count) of its \(owned.count) prompts; rerun its capture to resume")
            }
        }
        return Capture(key: key, ids: ids, split: split, batches: batches, storeOfShard: storeOfShard)
    }

    /// Models, datasets with their prompts, and captures, from the first store, in its order.
    func copyDefinitions(into merged: ActivationStore) throws {
        let first = stores[0]
        let (models, datasets, prompts, capturesRows) = try first.read { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM model WHERE id IN (SELECT model_id FROM capture) ORDER BY id"),
             try Row.fetchAll(db, sql: "SELECT * FROM dataset WHERE id IN (SELECT dataset_id FROM capture) ORDER BY id"),
             try Row.fetchAll(db, sql: "SELECT * FROM prompt WHERE dataset_id IN (SELECT dataset_id FROM capture) ORDER BY dataset_id, idx"),
             try Row.fetchAll(db, sql: "SELECT * FROM capture ORDER BY id"))
        }
        try merged.write { db in
            var modelID: [Int64: Int64] = [:], datasetID: [Int64: Int64] = [:]
            for m in models {
                try db.execute(sql: """
                    INSERT INTO model (name, architecture, path, file_hash, file_size, tokenizer_hash, config, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: StatementArguments([m["name"], m["architecture"], m["path"], m["file_hash"], m["file_size"],
                                     m["tokenizer_hash"], m["config"], m["created"]] as [DatabaseValue]))
                modelID[m["id"]] = db.lastInsertedRowID
            }
            for d in datasets {
                try db.execute(sql: """
                    INSERT INTO dataset (name, source, content_hash, encoding, prompt_count, token_count, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: StatementArguments([d["name"], d["source"], d["content_hash"], d["encoding"], d["prompt_count"],
                                     d["token_count"], d["created"]] as [DatabaseValue]))
                datasetID[d["id"]] = db.lastInsertedRowID
            }
            let insert = try db.makeStatement(sql: "INSERT INTO prompt (dataset_id, idx, line, text, tokens, metadata) VALUES (?, ?, ?, ?, ?, ?)")
            for p in prompts {
                try insert.execute(arguments: StatementArguments([datasetID[p["dataset_id"]]!.databaseValue, p["idx"], p["line"], p["text"],
                                               p["tokens"], p["metadata"]] as [DatabaseValue]))
            }
            for c in capturesRows {
                try db.execute(sql: """
                    INSERT INTO capture (model_id, dataset_id, hooks, positions, dtype, created) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: StatementArguments([modelID[c["model_id"]]!.databaseValue, datasetID[c["dataset_id"]]!.databaseValue,
                                     c["hooks"], c["positions"], c["dtype"], c["created"]] as [DatabaseValue]))
            }
        }
    }

    /// Copies capture number `number`'s rows batch by batch from the shard that owns each
    /// batch, prompt by prompt in index order with each prompt's rows in their stored order:
    /// the order one process commits them in. Returns the activation rows copied.
    func copyRows(of capture: Capture, number: Int, into merged: ActivationStore, progress: (String) -> Void) throws -> Int {
        let target = Int64(number + 1)  // captures were inserted in order into an empty store
        let targetPrompts: [Int: Int64] = try merged.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT p.idx, p.id FROM prompt p JOIN capture c ON c.dataset_id = p.dataset_id WHERE c.id = ?
                """, arguments: [target])
            return Dictionary(uniqueKeysWithValues: rows.map { (Int($0["idx"] as Int64), $0["id"] as Int64) })
        }
        var copied = 0
        let groups = stride(from: 0, to: capture.batches.count, by: 64)
        for start in groups {
            let end = min(start + 64, capture.batches.count)
            var pending: [(idx: Int, positions: DatabaseValue, rows: [Row])] = []
            for b in start..<end {
                let s = capture.storeOfShard[b % capture.split.shard.count]
                let source = stores[s]
                let (captureID, datasetID) = capture.ids[s]
                try source.read { db in
                    for idx in capture.batches[b] {
                        guard let held = try Row.fetchOne(db, sql: """
                            SELECT p.id, cp.positions FROM prompt p JOIN capture_prompt cp ON cp.prompt_id = p.id AND cp.capture_id = ?
                            WHERE p.dataset_id = ? AND p.idx = ?
                            """, arguments: [captureID, datasetID, idx]) else {
                            throw StoreError.badShard("\(source.path): prompt \(idx) of its shard vanished during the merge")
                        }
                        let promptID: Int64 = held["id"]
                        let rows = try Row.fetchAll(db, sql: """
                            SELECT hook, shape, dtype, data FROM activation WHERE capture_id = ? AND prompt_id = ? ORDER BY id
                            """, arguments: [captureID, promptID])
                        pending.append((idx, held["positions"], rows))
                    }
                }
            }
            try merged.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO activation (capture_id, hook, prompt_id, shape, dtype, data) VALUES (?, ?, ?, ?, ?, ?)")
                let done = try db.cachedStatement(sql: "INSERT INTO capture_prompt (capture_id, prompt_id, positions) VALUES (?, ?, ?)")
                for p in pending {
                    let promptID = targetPrompts[p.idx]!
                    for r in p.rows {
                        try insert.execute(arguments: StatementArguments([target.databaseValue, r["hook"], promptID.databaseValue, r["shape"], r["dtype"],
                                                       r["data"]] as [DatabaseValue]))
                        copied += 1
                    }
                    try done.execute(arguments: [target.databaseValue, promptID.databaseValue, p.positions])
                }
            }
            progress("capture \(number + 1) of \(captures.count): batches \(end)/\(capture.batches.count), \(copied) rows")
        }
        return copied
    }
}
