import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe steer sweep --shard I/N` and `loupe report merge` on the tiny Llama checkpoint (two
/// layers, so N = 3 has an empty shard): the merge writes the single run's CSV and figures
/// byte for byte and prints its table; a shard resumes from its saved layers; wrong merges
/// are refused by name.
@Suite(.serialized) struct ShardedSteerSweepTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path

    func inputs(_ dir: String) throws {
        try """
            {"positive": "I love this wonderful day", "negative": "I hate this terrible day"}
            {"positive": "What a great and happy song", "negative": "What a sad and awful song"}
            {"positive": "She smiled with joy", "negative": "She frowned with anger"}
            """.write(toFile: dir + "/pairs.jsonl", atomically: true, encoding: .utf8)
        try "The weather today is\nMy friend said that\n".write(toFile: dir + "/prompts.txt", atomically: true, encoding: .utf8)
        try "The river runs through the old town.\nA table has four legs and a flat top.\n"
            .write(toFile: dir + "/neutral.txt", atomically: true, encoding: .utf8)
    }

    func sweep(_ dir: String, _ extra: [String]) throws -> String {
        try runLoupe(["steer", "sweep", "--model", Self.model, "--pairs", dir + "/pairs.jsonl", "--prompts", dir + "/prompts.txt",
                      "--neutral", dir + "/neutral.txt", "--concept-tokens", " the", "--strengths", "gentle,strong"] + extra)
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in ["sweep.csv", "effect.svg", "fluency.svg", "tradeoff.svg"] {
            out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        }
        return out
    }

    @Test func shardsMergeIntoTheSingleProcessReport() throws {
        let dir = try captureFolder().path
        try inputs(dir)
        let text = try sweep(dir, ["--out", dir + "/whole"])
        let whole = try files(dir + "/whole")
        #expect(whole["sweep.csv"]!.split(separator: "\n").count == 1 + 2 * 2)
        for n in 1...3 {
            var folders: [String] = []
            for i in 0..<n {
                let said = try sweep(dir, ["--shard", "\(i)/\(n)", "--out", dir + "/n\(n)"])
                let mine = (2 - i + n - 1) / n
                #expect(said.contains("shard \(i)/\(n) of job") && said.contains("\(mine) of \(mine) layers done"), "\(said)")
                folders.append(dir + "/n\(n)-shard-\(i)-of-\(n)")
            }
            let merged = try runLoupe(["report", "merge", dir + "/merged-\(n)"] + folders.reversed())
            #expect(merged == text, "N=\(n): the merge prints the single run's table")
            #expect(try files(dir + "/merged-\(n)") == whole, "N=\(n): CSV and figures equal byte for byte")
        }
    }

    @Test func aShardResumesAndWrongMergesAreRefused() throws {
        let dir = try captureFolder().path
        try inputs(dir)
        _ = try sweep(dir, ["--shard", "0/1", "--out", dir + "/s"])
        let path = URL(fileURLWithPath: dir + "/s-shard-0-of-1/shard.json")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var items = done["items"] as! [Any]
        // As if killed after layer 0: layer 1 not saved, layer 0 marked so a recomputation would show.
        let before = items[1] as! [String: Any]
        items[1] = NSNull()
        var first = items[0] as! [String: Any]
        var cells = first["cells"] as! [[String: Any]]
        cells[0]["effect"] = 0.125
        first["cells"] = cells
        items[0] = first
        var edited = done
        edited["items"] = items
        try JSONSerialization.data(withJSONObject: edited).write(to: path)
        _ = try sweep(dir, ["--shard", "0/1", "--out", dir + "/s"])
        let resumed = (try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any])["items"] as! [Any]
        #expect(((resumed[0] as! [String: Any])["cells"] as! [[String: Any]])[0]["effect"] as? Double == 0.125, "a saved layer is kept")
        #expect(NSDictionary(dictionary: resumed[1] as! [String: Any]).isEqual(to: before), "the lost layer is swept again, equal")

        for i in 0..<2 { _ = try sweep(dir, ["--shard", "\(i)/2", "--out", dir + "/t"]) }
        let t = (0..<2).map { dir + "/t-shard-\($0)-of-2" }
        #expect(loupeError(["report", "merge", dir + "/m", t[1]]).contains("missing shard 0/2 of job"))
        #expect(loupeError(["report", "merge", dir + "/m", t[0], t[0], t[1]]).contains("shard 0/2 is given twice"))
        _ = try sweep(dir, ["--shard", "1/2", "--strengths", "gentle", "--out", dir + "/other"])
        let other = loupeError(["report", "merge", dir + "/m", t[0], dir + "/other-shard-1-of-2"])
        #expect(other.contains("only shards of one job merge (same model, layers and settings)"), "\(other)")
    }
}
