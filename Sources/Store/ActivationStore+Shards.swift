import Foundation
import GRDB

/// How a capture was split over processes: which shard a store holds and the batching that
/// decides its prompts (batch b of the capture's plan belongs to shard b mod count).
public struct CaptureShardPlan: Sendable, Equatable, Codable {
    public var shard: Shard
    public var batchSize: Int
    public var batchTokens: Int
    public var maxTokens: Int?

    public init(shard: Shard, batchSize: Int, batchTokens: Int, maxTokens: Int?) {
        self.shard = shard
        self.batchSize = batchSize
        self.batchTokens = batchTokens
        self.maxTokens = maxTokens
    }

    /// Everything but the shard index: what every shard of one capture must share.
    func sameSplit(as other: CaptureShardPlan) -> Bool {
        shard.count == other.shard.count && batchSize == other.batchSize && batchTokens == other.batchTokens
            && maxTokens == other.maxTokens
    }
}

extension ActivationStore {
    /// The shard of `capture` this store holds, or nil for a capture of the whole dataset.
    /// - Throws: ``StoreError/corruptRow(path:row:reason:)`` for a stored shard that makes no sense.
    public func shardPlan(capture: Int64) throws -> CaptureShardPlan? {
        try read { db in try Self.shardPlan(db, capture: capture, path: path) }
    }

    static func shardPlan(_ db: Database, capture: Int64, path: String) throws -> CaptureShardPlan? {
        guard try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'capture_shard'") == true,
              let row = try Row.fetchOne(db, sql: "SELECT * FROM capture_shard WHERE capture_id = ?", arguments: [capture]) else {
            return nil
        }
        let r = StoredRow(row: row, path: path, name: "capture_shard of capture \(capture)")
        let (index, count) = (try r.int("shard_index"), try r.int("shard_count"))
        let (size, tokens) = (try r.int("batch_size"), try r.int("batch_tokens"))
        let maxTokens = try r.optionalInt("max_tokens")
        guard let shard = try? Shard(index: index, count: count), size >= 1, tokens >= 1, (maxTokens ?? 1) >= 1 else {
            throw StoreError.corruptRow(path: path, row: "capture_shard of capture \(capture)",
                                        reason: "shard \(index)/\(count), batches of \(size) prompts / \(tokens) tokens, max tokens \(maxTokens.map(String.init) ?? "none")")
        }
        return CaptureShardPlan(shard: shard, batchSize: size, batchTokens: tokens, maxTokens: maxTokens)
    }

    /// Records that this store holds `plan.shard` of `capture` (nil: the whole capture, not
    /// sharded), or checks that a resumed run asks for the shard and batching the store was
    /// made with.
    /// - Throws: ``StoreError/badShard(_:)`` naming both when they differ.
    public func recordShard(_ plan: CaptureShardPlan?, capture: Int64) throws {
        try write { db in
            let stored = try Self.shardPlan(db, capture: capture, path: path)
            if stored == plan { return }
            let held = try Int.fetchOne(db, sql: "SELECT count(*) FROM capture_prompt WHERE capture_id = ?", arguments: [capture]) ?? 0
            func describe(_ p: CaptureShardPlan?) -> String {
                guard let p else { return "the whole capture" }
                return "shard \(p.shard) (batches of \(p.batchSize) prompts / \(p.batchTokens) tokens\(p.maxTokens.map { ", max \($0) tokens" } ?? ""))"
            }
            if stored != nil || held > 0 {
                throw StoreError.badShard("\(path): capture \(capture) holds \(describe(stored)), not \(describe(plan)); use this shard's own store (capture --shard writes STORE-shard-I-of-N)")
            }
            guard let plan else { return }
            try db.execute(sql: """
                INSERT INTO capture_shard (capture_id, shard_index, shard_count, batch_size, batch_tokens, max_tokens)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [capture, plan.shard.index, plan.shard.count, plan.batchSize, plan.batchTokens, plan.maxTokens])
        }
    }

    /// `store.sqlite` -> `store-shard-I-of-N.sqlite`: where shard I of N of a capture into
    /// `path` writes (each shard its own file; `loupe store merge` joins them).
    public static func shardPath(_ path: String, shard: Shard) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return stem + "-shard-\(shard.index)-of-\(shard.count)" + (ext.isEmpty ? "" : "." + ext)
    }
}
