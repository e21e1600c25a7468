import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe patch --pairs F` (many prompt pairs, averaged) and its shards on the tiny Llama
/// checkpoint: a pair of unequal token counts is skipped and named; the averages are the
/// per-pair values' means (checked by hand from pairs.csv); N = 1, 2 and 3 shards merge into
/// the single run's report byte for byte; a shard resumes; wrong merges are refused by name.
@Suite(.serialized) struct ShardedPatchTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let pairs = """
        {"clean": "The cat sat on the", "corrupt": "The hat sat on the", "answer": " the", "wrong": " a"}
        {"clean": "She saw the old car and", "corrupt": "She saw the new car and", "answer": " a", "wrong": " the"}
        {"clean": "A big dog ran to the", "corrupt": "A big pig ran to the", "answer": ".", "wrong": " the"}
        {"clean": "The bat sat on the", "corrupt": "The cat sat on the", "answer": " the", "wrong": "."}
        {"clean": "The dog sat on the", "corrupt": "The cat sat on the", "answer": " the", "wrong": " a"}
        """

    func patch(_ file: String, _ extra: [String]) throws -> String {
        try runLoupe(["patch", "--model", Self.model, "--pairs", file] + extra)
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in ["pairs.csv", "averages.csv", "averages.svg"] { out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }
        return out
    }

    @Test func pairsAverageAndShardsMergeIntoTheSingleProcessReport() throws {
        let dir = try captureFolder().path
        let file = dir + "/pairs.jsonl"
        try Self.pairs.write(toFile: file, atomically: true, encoding: .utf8)
        let text = try patch(file, ["--out", dir + "/whole"])
        #expect(text.hasPrefix("4 of 5 pairs patched (denoising)"), "\(text)")
        let whole = try files(dir + "/whole")
        #expect(whole["pairs.csv"]!.contains("the prompts have 8 and 7 tokens"))
        // The mean of resid_pre at the last position, layer 1, from the per-pair rows (hand arithmetic).
        let rows = whole["pairs.csv"]!.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let lastColumn = ["6", "11", "10", "6"]  // each patched pair's last position
        let perPair = (0..<4).compactMap { p in
            rows.first { $0.count == 10 && $0[0] == Substring("\(p)") && $0[5] == "resid_pre" && $0[6] == "1" && $0[7] == Substring(lastColumn[p]) }
                .map { Double($0[8])! }
        }
        #expect(perPair.count == 4, "\(perPair)")
        let averages = whole["averages.csv"]!.split(separator: "\n").map { $0.split(separator: ",") }
        let row = averages.first { $0[0] == "resid_pre" && $0[1] == "last" && $0[2] == "1" }!
        // pairs.csv and averages.csv print 6 significant digits.
        #expect(abs(Double(row[3])! - perPair.reduce(0, +) / Double(perPair.count)) <= 1e-5, "\(row) vs \(perPair)")
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try patch(file, ["--shard", "\(i)/\(n)", "--out", dir + "/n\(n)"])
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
        let file = dir + "/pairs.jsonl"
        try Self.pairs.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try patch(file, ["--shard", "0/2", "--out", dir + "/s"])
        let path = URL(fileURLWithPath: dir + "/s-shard-0-of-2/shard.json")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = done["items"] as! [Any]
        let before = items[2] as! [String: Any]
        items[2] = NSNull()
        var first = items[0] as! [String: Any]
        first["answer"] = "kept"
        items[0] = first
        var edited = done
        edited["items"] = items
        try JSONSerialization.data(withJSONObject: edited).write(to: path)
        _ = try patch(file, ["--shard", "0/2", "--out", dir + "/s"])
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any])["items"] as! [Any]
        #expect((resumed[0] as! [String: Any])["answer"] as? String == "kept", "a saved pair is kept")
        #expect(NSDictionary(dictionary: resumed[2] as! [String: Any]).isEqual(to: before), "the lost pair is patched again, equal")
        _ = try patch(file, ["--shard", "1/2", "--out", dir + "/s"])
        let s = [dir + "/s-shard-0-of-2", dir + "/s-shard-1-of-2"]
        #expect(loupeError(["report", "merge", dir + "/m", s[1]]).contains("missing shard 0/2 of job"))
        #expect(loupeError(["report", "merge", dir + "/m", s[0], s[0], s[1]]).contains("shard 0/2 is given twice"))
        _ = try patch(file, ["--shard", "1/2", "--direction", "noising", "--out", dir + "/other"])
        #expect(loupeError(["report", "merge", dir + "/m", s[0], dir + "/other-shard-1-of-2"]).contains("only shards of one job merge"))
        #expect(loupeError(["patch", "--model", Self.model, "--clean", "a", "--corrupt", "b", "--answer", "c", "--wrong", "d", "--shard", "0/2"])
                    .contains("give --pairs"))
        #expect(loupeError(["patch", "--model", Self.model, "--pairs", file, "--clean", "a"]).contains("drop --clean"))
    }
}
