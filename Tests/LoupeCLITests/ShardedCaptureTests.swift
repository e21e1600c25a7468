import Foundation
import GRDB
import LoupeCLI
import LoupeTestSupport
import Store
import Testing

/// `loupe capture --shard I/N` and `loupe store merge` on the tiny Llama checkpoint: N = 1, 2
/// and 3 shard stores merge into a store equal to a single-process capture, every row and
/// column but creation times; a shard cut short resumes; wrong merges are refused by name.
@Suite(.serialized) struct ShardedCaptureTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let prompts = (0..<11).map { "{\"text\": \"prompt \($0): the quick brown fox \(String(repeating: "jumps ", count: $0 % 4))over\", \"label\": \($0 % 2)}" }
        .joined(separator: "\n")

    func capture(_ dir: String, store: String, _ extra: [String] = []) throws {
        _ = try runLoupe(["capture", "--model", Self.model, "--prompts", dir + "/p.jsonl", "--hooks",
                          "blocks.*.hook_resid_post,blocks.0.attn.hook_pattern", "--dtype", "f32", "--batch-size", "2",
                          "--store", store] + extra)
    }

    /// Every table's rows in id (or key) order, every column but `created`.
    func dump(_ path: String) throws -> [String: [[String: DatabaseValue]]] {
        try DatabaseQueue(path: path).read { db in
            var out: [String: [[String: DatabaseValue]]] = [:]
            for (table, order) in [("model", "id"), ("dataset", "id"), ("prompt", "id"), ("capture", "id"),
                                   ("capture_prompt", "capture_id, prompt_id"), ("activation", "id"), ("capture_shard", "capture_id")] {
                out[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)").map { row in
                    var d: [String: DatabaseValue] = [:]
                    for (column, value) in row where column != "created" { d[column] = value }
                    return d
                }
            }
            return out
        }
    }

    @Test func shardStoresMergeIntoTheSingleProcessStore() throws {
        let dir = try captureFolder().path
        try Self.prompts.write(toFile: dir + "/p.jsonl", atomically: true, encoding: .utf8)
        try capture(dir, store: dir + "/whole.sqlite")
        let reference = try dump(dir + "/whole.sqlite")
        #expect(reference["activation"]!.count == 11 * 3 && reference["prompt"]!.count == 11)
        for n in 1...3 {
            for i in 0..<n { try capture(dir, store: dir + "/s\(n).sqlite", ["--shard", "\(i)/\(n)"]) }
            let shards = (0..<n).map { dir + "/s\(n)-shard-\($0)-of-\(n).sqlite" }
            // A shard holds its batches only: batch b (2 prompts) when b mod n is i.
            let first = try dump(shards[0])
            #expect(first["capture_prompt"]!.count == (n == 1 ? 11 : n == 2 ? 6 : 4), "N=\(n)")
            let said = try runLoupe(["store", "merge", dir + "/m\(n).sqlite"] + shards.reversed())
            #expect(said.contains("11 prompts, 33 activation rows from \(n) shards"), "\(said)")
            #expect(try dump(dir + "/m\(n).sqlite") == reference, "N=\(n): the merged store equals the single-process one")
        }
    }

    @Test func anUnfinishedShardIsNamedAndResumes() throws {
        let dir = try captureFolder().path
        try Self.prompts.write(toFile: dir + "/p.jsonl", atomically: true, encoding: .utf8)
        try capture(dir, store: dir + "/whole.sqlite")
        for i in 0..<2 { try capture(dir, store: dir + "/s.sqlite", ["--shard", "\(i)/2"]) }
        let shards = (0..<2).map { dir + "/s-shard-\($0)-of-2.sqlite" }
        // As if the last batch of shard 1 never committed.
        try DatabaseQueue(path: shards[1]).write { db in
            try db.execute(sql: "DELETE FROM activation WHERE prompt_id IN (SELECT id FROM prompt WHERE idx >= 6)")
            try db.execute(sql: "DELETE FROM capture_prompt WHERE prompt_id IN (SELECT id FROM prompt WHERE idx >= 6)")
        }
        let unfinished = loupeError(["store", "merge", dir + "/m.sqlite"] + shards)
        #expect(unfinished.contains("shard-1-of-2.sqlite: shard 1/2 is unfinished: 2 of its 5 prompts"), "\(unfinished)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.sqlite"))
        try capture(dir, store: dir + "/s.sqlite", ["--shard", "1/2"])
        _ = try runLoupe(["store", "merge", dir + "/m.sqlite"] + shards)
        #expect(try dump(dir + "/m.sqlite") == (try dump(dir + "/whole.sqlite")))
    }

    @Test func wrongMergesAreRefusedByName() throws {
        let dir = try captureFolder().path
        try Self.prompts.write(toFile: dir + "/p.jsonl", atomically: true, encoding: .utf8)
        for i in 0..<3 { try capture(dir, store: dir + "/s.sqlite", ["--shard", "\(i)/3"]) }
        let s = (0..<3).map { dir + "/s-shard-\($0)-of-3.sqlite" }
        #expect(loupeError(["store", "merge", dir + "/m.sqlite", s[0], s[2]]).contains("missing shard 1/3"))
        #expect(loupeError(["store", "merge", dir + "/m.sqlite", s[0], s[1], s[1], s[2]]).contains("is given 2 times"))
        try capture(dir, store: dir + "/t.sqlite", ["--shard", "1/2"])
        let split = loupeError(["store", "merge", dir + "/m.sqlite", s[0], dir + "/t-shard-1-of-2.sqlite"])
        #expect(split.contains("the splits differ"), "\(split)")
        try capture(dir, store: dir + "/whole.sqlite")
        let whole = loupeError(["store", "merge", dir + "/m.sqlite", dir + "/whole.sqlite"])
        #expect(whole.contains("whole.sqlite: the capture of") && whole.contains("was not made with --shard"), "\(whole)")
        _ = try runLoupe(["store", "merge", dir + "/m.sqlite"] + s)
        #expect(loupeError(["store", "merge", dir + "/m.sqlite"] + s).contains("m.sqlite exists"))
        // A shard's store refuses to become another shard or the whole capture.
        let store = try ActivationStore(path: s[0], writable: true)
        let other = CaptureShardPlan(shard: try Shard(index: 1, count: 3), batchSize: 2, batchTokens: 8192, maxTokens: nil)
        #expect(throws: StoreError.self) { try store.recordShard(other, capture: 1) }
        do { try store.recordShard(other, capture: 1) } catch {
            #expect("\(error)".contains("holds shard 0/3 (batches of 2 prompts / 8192 tokens), not shard 1/3"), "\(error)")
        }
        #expect(loupeError(["capture", "--model", Self.model, "--prompts", dir + "/p.jsonl", "--hooks", "blocks.0.hook_resid_post",
                            "--store", dir + "/x.sqlite", "--shard", "3/3"]).contains("outside 0..<3"))
    }
}
