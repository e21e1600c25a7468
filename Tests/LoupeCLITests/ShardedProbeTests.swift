import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe probe train --shard I/N` and `loupe report merge` on the tiny Llama checkpoint:
/// N = 1, 2 and 3 shards over six hook points merge into the report one process writes
/// (CSVs, figures and saved probes byte for byte); a shard resumes from its saved hooks;
/// wrong merges and shards on a store without their hooks are refused by name.
@Suite(.serialized) struct ShardedProbeTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let hooks = "blocks.*.hook_resid_pre,blocks.*.hook_resid_mid,blocks.*.hook_resid_post"

    func train(_ store: String, _ extra: [String]) throws -> String {
        try runLoupe(["probe", "train", "--store", store, "--dataset", probeDataset("subject-category"), "--hooks", Self.hooks,
                      "--folds", "2", "--max-iter", "200"] + extra)
    }

    /// Every file of a probe report but summary.txt and index.html (they carry the command line).
    func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where !["summary.txt", "index.html", "shard.json"].contains(name) {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return out
    }

    /// The store, captured by an unsharded run that also writes the reference report.
    func reference(_ dir: String) throws -> (store: String, text: String) {
        let store = dir + "/s.sqlite"
        let text = try train(store, ["--model", Self.model, "--out", dir + "/whole"])
        return (store, text)
    }

    @Test func shardsMergeIntoTheSingleProcessReport() throws {
        let dir = try captureFolder().path
        let (store, text) = try reference(dir)
        let whole = try files(dir + "/whole")
        #expect(whole.keys.filter { $0.hasPrefix("probe-blocks.") }.count == 6 && whole["layers.csv"] != nil
                && whole["confusion.svg"] != nil && whole["best-probe.json"] != nil, "\(whole.keys.sorted())")
        let wholeJSON = try json(train(store, ["--out", dir + "/whole-json", "--format", "json"])) as! [String: Any]
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try train(store, ["--shard", "\(i)/\(n)", "--out", dir + "/n\(n)"])
                let mine = (6 - i + n - 1) / n
                #expect(said.contains("shard \(i)/\(n) of job") && said.contains("\(mine) of \(mine) hooks done"), "\(said)")
                folders.append(dir + "/n\(n)-shard-\(i)-of-\(n)")
            }
            let merged = try runLoupe(["report", "merge", dir + "/merged-\(n)"] + folders.reversed())
            let dropReportLine = { (s: String) in s.split(separator: "\n").filter { !$0.hasPrefix("report written to") } }
            #expect(dropReportLine(merged) == dropReportLine(text), "N=\(n): the merge prints the single run's table")
            #expect(try files(dir + "/merged-\(n)") == whole, "N=\(n): CSVs, figures and probes equal byte for byte")
            var mergedJSON = try json(runLoupe(["report", "merge", dir + "/merged-json-\(n)", "--format", "json"] + folders)) as! [String: Any]
            mergedJSON["report"] = wholeJSON["report"]
            #expect(NSDictionary(dictionary: mergedJSON).isEqual(to: wholeJSON), "N=\(n): JSON output")
        }
    }

    @Test func aShardResumesFromItsSavedHooks() throws {
        let dir = try captureFolder().path
        let (store, _) = try reference(dir)
        _ = try train(store, ["--shard", "0/2", "--out", dir + "/s"])
        let path = URL(fileURLWithPath: dir + "/s-shard-0-of-2/shard.json")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = done["items"] as! [Any]
        #expect(items.count == 6 && items[1] is NSNull && !(items[2] is NSNull), "shard 0/2 owns hooks 0, 2, 4")
        // As if killed after its first hook: hook 2 not saved, hook 0 marked so a recomputation would show.
        let before = items[2] as! [String: Any]
        items[2] = NSNull()
        var first = items[0] as! [String: Any], result = first["result"] as! [String: Any]
        result["testAccuracy"] = 0.125
        first["result"] = result
        items[0] = first
        var edited = done
        edited["items"] = items
        try JSONSerialization.data(withJSONObject: edited).write(to: path)
        let said = try train(store, ["--shard", "0/2", "--out", dir + "/s"])
        #expect(said.contains("3 of 3 hooks done"), "\(said)")
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any])["items"] as! [Any]
        let kept = (resumed[0] as! [String: Any])["result"] as! [String: Any]
        #expect(kept["testAccuracy"] as? Double == 0.125, "a saved hook is kept, not refitted")
        #expect(NSDictionary(dictionary: resumed[2] as! [String: Any]).isEqual(to: before), "the lost hook is fitted again, equal")
    }

    @Test func wrongMergesAndStoresAreRefusedByName() throws {
        let dir = try captureFolder().path
        let (store, _) = try reference(dir)
        for i in 0..<3 { _ = try train(store, ["--shard", "\(i)/3", "--out", dir + "/s"]) }
        let s = (0..<3).map { dir + "/s-shard-\($0)-of-3" }
        let missing = loupeError(["report", "merge", dir + "/m", s[0], s[2]])
        #expect(missing.contains("missing shard 1/3 of job"), "\(missing)")
        let twice = loupeError(["report", "merge", dir + "/m", s[0], s[1], s[1], s[2]])
        #expect(twice.contains("shard 1/3 is given twice: \(s[1]) and \(s[1])"), "\(twice)")
        _ = try train(store, ["--shard", "1/3", "--seed", "2", "--out", dir + "/other"])
        let other = loupeError(["report", "merge", dir + "/m", s[0], dir + "/other-shard-1-of-3", s[2]])
        #expect(other.contains("only shards of one job merge") && other.contains(dir + "/other-shard-1-of-3"), "\(other)")
        let path = URL(fileURLWithPath: s[2] + "/shard.json")
        var saved = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = saved["items"] as! [Any]
        items[5] = NSNull()
        saved["items"] = items
        try JSONSerialization.data(withJSONObject: saved).write(to: path)
        let unfinished = loupeError(["report", "merge", dir + "/m"] + s)
        #expect(unfinished.contains("shard 2/3 in \(s[2]) is unfinished: 1 of its hooks are left"), "\(unfinished)")
        // A trace shard among probe shards is not read as one.
        let facts = dir + "/facts.jsonl"
        try "{\"prompt\": \"Paris is the capital of\", \"subject\": \"Paris\"}\n".write(toFile: facts, atomically: true, encoding: .utf8)
        _ = try runLoupe(["trace", "--model", Self.model, "--facts", facts, "--samples", "2", "--kinds", "state", "--shard", "0/1", "--out", dir + "/t"])
        let mixed = loupeError(["report", "merge", dir + "/m", s[0], dir + "/t-shard-0-of-1"])
        #expect(mixed.contains("not a probe-train shard file (analysis 'trace-facts')"), "\(mixed)")
        // A shard reads the store only: hooks it lacks are named, not captured.
        let lacking = loupeError(["probe", "train", "--store", store, "--dataset", probeDataset("subject-category"),
                                  "--hooks", "blocks.*.hook_mlp_out", "--model", Self.model, "--shard", "0/2", "--out", dir + "/x"])
        #expect(lacking.contains("shard 0/2 trains on what \(store) holds, and it lacks blocks.0.hook_mlp_out, blocks.1.hook_mlp_out"), "\(lacking)")
        let ridge = loupeError(["probe", "train", "--store", store, "--dataset", probeDataset("subject-category"), "--hooks", Self.hooks,
                                "--probe", "ridge", "--target", "label", "--shard", "0/2"])
        #expect(ridge.contains("runs unsharded"), "\(ridge)")
    }
}
