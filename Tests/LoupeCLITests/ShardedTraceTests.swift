import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe trace --facts --shard I/N` and `loupe report merge` on the tiny Llama checkpoint:
/// N = 1, 2 and 3 shards merge into the report one process writes, byte for byte; a shard
/// resumes from its saved facts; merges of the wrong folders are refused by name.
@Suite(.serialized) struct ShardedTraceTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let facts = """
        {"prompt": "The quick brown fox jumps over the lazy dog", "subject": "quick brown"}
        {"prompt": "A cat sat on the mat and then", "subject": "cat"}
        {"prompt": "Paris is the capital of", "subject": "Paris"}
        {"prompt": "She went to the market to buy", "subject": "market"}
        {"prompt": "One two three four five", "subject": "zebra"}
        """

    func trace(_ file: String, _ extra: [String]) throws -> String {
        try runLoupe(["trace", "--model", Self.model, "--facts", file, "--samples", "2", "--kinds", "state,mlp", "--window", "1"] + extra)
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in ["roles.csv", "facts.csv", "roles-state.svg", "roles-mlp.svg"] {
            out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        }
        return out
    }

    @Test func shardsMergeIntoTheSingleProcessReport() throws {
        let dir = try captureFolder().path
        let file = dir + "/facts.jsonl"
        try Self.facts.write(toFile: file, atomically: true, encoding: .utf8)
        let whole = try trace(file, ["--out", dir + "/whole"])
        let reference = try files(dir + "/whole")
        #expect(reference["facts.csv"]!.contains("skipped: ") && reference["roles.csv"]!.split(separator: "\n").count > 10)
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try trace(file, ["--shard", "\(i)/\(n)", "--out", dir + "/n\(n)"])
                #expect(said.contains("shard \(i)/\(n) of job"), "\(said)")
                folders.append(dir + "/n\(n)-shard-\(i)-of-\(n)")
            }
            let merged = try runLoupe(["report", "merge", dir + "/merged-\(n)"] + folders.reversed())
            #expect(merged == whole, "N=\(n): the merge prints what the single run printed")
            #expect(try files(dir + "/merged-\(n)") == reference, "N=\(n): CSVs and figures equal byte for byte")
        }
    }

    @Test func aShardResumesFromItsSavedFacts() throws {
        let dir = try captureFolder().path
        let file = dir + "/facts.jsonl"
        try Self.facts.write(toFile: file, atomically: true, encoding: .utf8)
        let folder = dir + "/s-shard-0-of-2"
        _ = try trace(file, ["--shard", "0/2", "--out", dir + "/s"])
        let path = folder + "/shard.json"
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var facts = done["facts"] as! [[String: Any]]
        // As if killed after the first fact: the second of its facts (index 2) not saved, and the
        // first marked so a recomputation would show.
        let second = facts[2]
        facts[2].removeValue(forKey: "result")
        var first = facts[0]["result"] as! [String: Any]
        first["cleanProbability"] = 0.125
        facts[0]["result"] = first
        var edited = done
        edited["facts"] = facts
        try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: path))
        _ = try trace(file, ["--shard", "0/2", "--out", dir + "/s"])
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any])["facts"] as! [[String: Any]]
        #expect((resumed[0]["result"] as! [String: Any])["cleanProbability"] as? Double == 0.125, "a saved fact is kept, not recomputed")
        let again = resumed[2]["result"] as! [String: Any], before = second["result"] as! [String: Any]
        #expect(again["cleanProbability"] as? Double == before["cleanProbability"] as? Double)
        #expect(NSDictionary(dictionary: again["grids"] as! [String: Any]).isEqual(to: before["grids"] as! [String: Any]))
    }

    @Test func wrongMergesAreRefusedByName() throws {
        let dir = try captureFolder().path
        let file = dir + "/facts.jsonl"
        try Self.facts.write(toFile: file, atomically: true, encoding: .utf8)
        for i in 0..<3 { _ = try trace(file, ["--shard", "\(i)/3", "--out", dir + "/s"]) }
        let s = (0..<3).map { dir + "/s-shard-\($0)-of-3" }
        let missing = loupeError(["report", "merge", dir + "/m", s[0], s[2]])
        #expect(missing.contains("missing shard 1/3"), "\(missing)")
        let twice = loupeError(["report", "merge", dir + "/m", s[0], s[1], s[1], s[2]])
        #expect(twice.contains("shard 1/3 is given twice"), "\(twice)")
        _ = try runLoupe(["trace", "--model", Self.model, "--facts", file, "--samples", "3", "--kinds", "state,mlp", "--window", "1",
                          "--shard", "1/3", "--out", dir + "/other"])
        let other = loupeError(["report", "merge", dir + "/m", s[0], dir + "/other-shard-1-of-3", s[2]])
        #expect(other.contains("only shards of one job merge") && other.contains(dir + "/other"), "\(other)")
        let path = URL(fileURLWithPath: s[1] + "/shard.json")
        var saved = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var facts = saved["facts"] as! [[String: Any]]
        facts[1].removeValue(forKey: "result")
        saved["facts"] = facts
        try JSONSerialization.data(withJSONObject: saved).write(to: path)
        let unfinished = loupeError(["report", "merge", dir + "/m"] + s)
        #expect(unfinished.contains("shard 1/3 in \(s[1]) is unfinished: 1 of its facts are left"), "\(unfinished)")
        let notShard = loupeError(["report", "merge", dir + "/m", dir])
        #expect(notShard.contains("shard.json: cannot read"), "\(notShard)")
        #expect(loupeError(["trace", "--model", Self.model, "--prompt", "a b", "--subject", "a", "--shard", "0/2"]).contains("--facts"))
        #expect(loupeError(["trace", "--model", Self.model, "--facts", file, "--shard", "2/2"]).contains("outside 0..<2"))
    }
}
