import Analyses
import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe sae eval --shard I/N` and `loupe report merge` on the tiny Llama checkpoint with a
/// random SAE: shards save each batch's sums, the merge recomputes every metric from them and
/// writes the single run's sae-eval.json and feature_density.csv byte for byte; a shard
/// resumes; wrong merges are refused by name.
@Suite(.serialized) struct ShardedSAEEvalTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path

    /// An SAE folder for blocks.1.hook_resid_pre of the tiny model, and a prompts file.
    func inputs(_ dir: String) throws {
        let sae = StandardSAE(parameters: try .initialized(width: 64, latents: 96, decoderNorm: 0.3, seed: 5))
        try SAEFolder.save(sae, metadata: SAEMetadata(hookName: "blocks.1.hook_resid_pre"), to: dir + "/sae")
        let prompts = (0..<9).map { "prompt \($0): the quick brown fox jumps over \(String(repeating: "the lazy ", count: $0 % 3 + 1))dog" }
        try prompts.joined(separator: "\n").write(toFile: dir + "/p.txt", atomically: true, encoding: .utf8)
    }

    func eval(_ dir: String, _ extra: [String]) throws -> String {
        try runLoupe(["sae", "eval", "--model", Self.model, "--sae", dir + "/sae", "--prompts", dir + "/p.txt", "--batch-size", "2"] + extra)
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in ["sae-eval.json", "feature_density.csv"] { out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }
        return out
    }

    @Test func shardsMergeIntoTheSingleProcessResult() throws {
        let dir = try captureFolder().path
        try inputs(dir)
        let text = try eval(dir, ["--out-dir", dir + "/whole"])
        let whole = try files(dir + "/whole")
        let reference = try json(whole["sae-eval.json"]!) as! [String: Any]
        #expect(reference["sequences"] as? Int == 9 && (reference["ce_loss_score"] as? Double) != nil, "\(reference)")
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try eval(dir, ["--shard", "\(i)/\(n)", "--out-dir", dir + "/n\(n)"])
                let mine = (5 - i + n - 1) / n  // 9 prompts in batches of 2: 5 batches
                #expect(said.contains("shard \(i)/\(n) of job") && said.contains("\(mine) of \(mine) batches done"), "\(said)")
                folders.append(dir + "/n\(n)-shard-\(i)-of-\(n)")
            }
            let merged = try runLoupe(["report", "merge", dir + "/merged-\(n)"] + folders.reversed())
            #expect(merged == text, "N=\(n): the merge prints the single run's table")
            #expect(try files(dir + "/merged-\(n)") == whole, "N=\(n): sae-eval.json and feature_density.csv equal byte for byte")
        }
    }

    @Test func aShardResumesAndWrongMergesAreRefused() throws {
        let dir = try captureFolder().path
        try inputs(dir)
        _ = try eval(dir, ["--shard", "0/2", "--out-dir", dir + "/s"])
        let path = URL(fileURLWithPath: dir + "/s-shard-0-of-2/shard.json")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = done["items"] as! [Any]
        #expect(items.count == 5 && items[1] is NSNull && !(items[2] is NSNull))
        // As if killed after batch 0: batch 2 not saved, batch 0 marked so a recomputation would show.
        let before = items[2] as! [String: Any]
        items[2] = NSNull()
        var first = items[0] as! [String: Any]
        first["ceSAE"] = 0.125
        items[0] = first
        var edited = done
        edited["items"] = items
        try JSONSerialization.data(withJSONObject: edited).write(to: path)
        _ = try eval(dir, ["--shard", "0/2", "--out-dir", dir + "/s"])
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any])["items"] as! [Any]
        #expect((resumed[0] as! [String: Any])["ceSAE"] as? Double == 0.125, "a saved batch is kept")
        #expect(NSDictionary(dictionary: resumed[2] as! [String: Any]).isEqual(to: before), "the lost batch is evaluated again, equal")

        _ = try eval(dir, ["--shard", "1/2", "--out-dir", dir + "/s"])
        let s = [dir + "/s-shard-0-of-2", dir + "/s-shard-1-of-2"]
        #expect(loupeError(["report", "merge", dir + "/m", s[0]]).contains("missing shard 1/2 of job"))
        #expect(loupeError(["report", "merge", dir + "/m", s[0], s[1], s[0]]).contains("shard 0/2 is given twice"))
        _ = try eval(dir, ["--shard", "1/2", "--include-position-0", "--out-dir", dir + "/other"])
        let other = loupeError(["report", "merge", dir + "/m", s[0], dir + "/other-shard-1-of-2"])
        #expect(other.contains("only shards of one job merge (same model, batches and settings)"), "\(other)")
    }
}
