import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe knockout --facts F` (many facts, averaged) and its shards on the tiny Llama
/// checkpoint: the averages are the per-fact changes' means (checked by hand from facts.csv);
/// N = 1, 2 and 3 shards merge into the single run's report byte for byte; a shard resumes;
/// wrong merges are refused by name.
@Suite(.serialized) struct ShardedKnockoutTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path

    func knockout(_ file: String, _ extra: [String]) throws -> String {
        try runLoupe(["knockout", "--model", Self.model, "--facts", file, "--window", "1"] + extra)
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in ["facts.csv", "averages.csv", "averages.svg"] { out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }
        return out
    }

    @Test func factsAverageAndShardsMergeIntoTheSingleProcessReport() throws {
        let dir = try captureFolder().path
        let file = dir + "/facts.jsonl"
        try ShardedTraceTests.facts.write(toFile: file, atomically: true, encoding: .utf8)
        let text = try knockout(file, ["--out", dir + "/whole"])
        #expect(text.hasPrefix("4 of 5 facts knocked out"), "\(text)")
        let whole = try files(dir + "/whole")
        #expect(whole["facts.csv"]!.contains("subject 'zebra' does not occur"))
        // The mean of subject -> last at layer 1 from the per-fact rows (hand arithmetic).
        let rows = whole["facts.csv"]!.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let perFact = rows.filter { $0.count == 10 && $0[5] == "subject" && $0[6] == "1" }.map { Double($0[8])! }
        #expect(perFact.count == 4)
        let averages = whole["averages.csv"]!.split(separator: "\n").map { $0.split(separator: ",") }
        let row = averages.first { $0[0] == "subject" && $0[1] == "1" }!
        // facts.csv and averages.csv print 6 significant digits.
        #expect(abs(Double(row[2])! - perFact.reduce(0, +) / 4) <= 1e-4, "\(row) vs \(perFact)")
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try knockout(file, ["--shard", "\(i)/\(n)", "--out", dir + "/n\(n)"])
                #expect(said.contains("shard \(i)/\(n) of job"), "\(said)")
                folders.append(dir + "/n\(n)-shard-\(i)-of-\(n)")
            }
            let merged = try runLoupe(["report", "merge", dir + "/merged-\(n)"] + folders.reversed())
            #expect(merged == text, "N=\(n): the merge prints the single run's averages")
            #expect(try files(dir + "/merged-\(n)") == whole, "N=\(n): CSVs and figure equal byte for byte")
        }
    }

    @Test func aShardResumesAndWrongMergesAreRefused() throws {
        let dir = try captureFolder().path
        let file = dir + "/facts.jsonl"
        try ShardedTraceTests.facts.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try knockout(file, ["--shard", "0/2", "--out", dir + "/s"])
        let path = URL(fileURLWithPath: dir + "/s-shard-0-of-2/shard.json")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = done["items"] as! [Any]
        let before = items[2] as! [String: Any]
        items[2] = NSNull()
        var first = items[0] as! [String: Any], result = first["result"] as! [String: Any]
        result["cleanProbability"] = 0.125
        first["result"] = result
        items[0] = first
        var edited = done
        edited["items"] = items
        try JSONSerialization.data(withJSONObject: edited).write(to: path)
        _ = try knockout(file, ["--shard", "0/2", "--out", dir + "/s"])
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any])["items"] as! [Any]
        #expect(((resumed[0] as! [String: Any])["result"] as! [String: Any])["cleanProbability"] as? Double == 0.125, "a saved fact is kept")
        #expect(NSDictionary(dictionary: resumed[2] as! [String: Any]).isEqual(to: before), "the lost fact is run again, equal")
        _ = try knockout(file, ["--shard", "1/2", "--out", dir + "/s"])
        let s = [dir + "/s-shard-0-of-2", dir + "/s-shard-1-of-2"]
        #expect(loupeError(["report", "merge", dir + "/m", s[1]]).contains("missing shard 0/2 of job"))
        #expect(loupeError(["report", "merge", dir + "/m", s[0], s[1], s[1]]).contains("shard 1/2 is given twice"))
        _ = try knockout(file, ["--shard", "1/2", "--block-first", "--out", dir + "/other"])
        #expect(loupeError(["report", "merge", dir + "/m", s[0], dir + "/other-shard-1-of-2"]).contains("only shards of one job merge"))
        #expect(loupeError(["knockout", "--model", Self.model, "--prompt", "a b", "--subject", "a", "--shard", "0/2"]).contains("give --facts"))
        #expect(loupeError(["knockout", "--model", Self.model, "--facts", file, "--prompt", "a b"]).contains("drop --prompt"))
    }
}
