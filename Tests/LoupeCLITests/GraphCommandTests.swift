import Formats
import Foundation
import LoupeCLI
import LoupeTestSupport
import Models
import Testing

/// `loupe graph` end to end on the tiny Llama with the committed random transcoder set; the
/// scores and pruned sizes are circuit-tracer's (Tests/Fixtures/graph/graph.json).
@Suite struct GraphCommandTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let graph = TestFiles.fixtures.appendingPathComponent("graph")

    @Test func graphWritesTheReportAndCircuitTracersScores() throws {
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.graph.appendingPathComponent("graph.json"))) as! [String: Any]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-graph-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try json(runLoupe(["graph", "--model", Self.model, "--prompt", ref["prompt"] as! String,
                                        "--transcoders", Self.graph.appendingPathComponent("transcoders").path,
                                        "--out-dir", out, "--batch-size", "7", "--format", "json"])) as! [String: Any]
        #expect((result["tokens"] as! [String]).count == (ref["ids"] as! [Int]).count)
        #expect(result["activeFeatures"] as? Int == ref["features"] as? Int && result["nodes"] as? Int == ref["nodes"] as? Int)
        #expect(result["keptNodes"] as? Int == ref["pruned_nodes"] as? Int && result["keptEdges"] as? Int == ref["pruned_edges"] as? Int)
        #expect(abs((result["replacementScore"] as! Double) - (ref["replacement_score"] as! Double)) < 1e-4)
        #expect(abs((result["completenessScore"] as! Double) - (ref["completeness_score"] as! Double)) < 1e-4)
        #expect((result["logits"] as! [[String: Any]]).map { $0["id"] as! Int } == ref["logit_tokens"] as! [Int])
        let slug = URL(fileURLWithPath: out).lastPathComponent
        for file in ["\(slug).json", "graph-metadata.json", "nodes.csv", "edges.csv", "summary.txt"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/\(slug).json"))) as! [String: Any]
        #expect((doc["links"] as! [Any]).count == ref["pruned_edges"] as? Int)
        let edges = try String(contentsOfFile: out + "/edges.csv", encoding: .utf8).split(separator: "\n")
        #expect(edges.count == 1 + (ref["pruned_edges"] as! Int))
        #expect(try String(contentsOfFile: out + "/summary.txt", encoding: .utf8).contains("Strongest paths from tokens"))
    }

    /// `graph intervene` with the fixture's first edit: probabilities before are the graph's
    /// logit probabilities, after are those of circuit-tracer's intervened logits.
    @Test func interveneReportsCircuitTracersProbabilities() throws {
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.graph.appendingPathComponent("graph.json"))) as! [String: Any]
        let result = try json(runLoupe(["graph", "intervene", "--model", Self.model, "--prompt", ref["prompt"] as! String,
                                        "--transcoders", Self.graph.appendingPathComponent("transcoders").path,
                                        "--set", "0:7:7=0", "--format", "json"])) as! [String: Any]
        let rows = result["tokens"] as! [[String: Any]]
        #expect(rows.map { $0["id"] as! Int } == ref["logit_tokens"] as! [Int])
        let logits = try NumPyArray.read(path: Self.graph.appendingPathComponent("intervention-logits.npy").path).scalars
        let vocab = logits.count / 2, top = logits[0..<vocab].max()!
        let sum = logits[0..<vocab].reduce(0.0) { $0 + Foundation.exp(Double($1 - top)) }
        for (row, p) in zip(rows, ref["logit_probabilities"] as! [Double]) {
            #expect(abs((row["before"] as! Double) - p) < 1e-5)
            let want = Foundation.exp(Double(logits[row["id"] as! Int] - top)) / sum
            #expect(abs((row["after"] as! Double) - want) < 1e-4, "token \(row["id"]!)")
        }
        #expect(loupeError(["graph", "intervene", "--model", Self.model, "--prompt", "The", "--transcoders", Self.graph.path, "--set", "1:2"])
            .contains("'1:2' is not L:P:F=VALUE"))
    }

    @Test func graphRefusesBadOptionsAndSets() throws {
        #expect(loupeError(["graph", "--model", Self.model, "--prompt", "The", "--transcoders", "/nonexistent/set"])
            .contains("/nonexistent/set/transcoders.json: cannot read it"))
        #expect(loupeError(["graph", "--model", Self.model, "--prompt", "The", "--transcoders", Self.graph.path, "--node-threshold", "2"])
            .contains("--node-threshold must be between 0 and 1"))
    }

    /// `--bos`: prepend (the default, circuit-tracer's) graphs BOS plus the prompt, none the
    /// prompt's own tokens; auto follows the tokenizer's add_bos_token. Each choice is in the
    /// JSON's metadata and in summary.txt, and intervene takes the same option.
    @Test func bosOptionChoosesTheTokensAndIsRecorded() throws {
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.graph.appendingPathComponent("graph.json"))) as! [String: Any]
        let prompt = ref["prompt"] as! String, ids = ref["ids"] as! [Int]
        let m = try ModelLoader.load(path: Self.model)
        let plain = try m.tokenizer.encode(prompt)
        #expect(ids.first == m.tokenizer.bosID ?? m.tokenizer.spec.eosID ?? m.tokenizer.spec.padID && Array(ids.dropFirst()) == plain)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-graph-bos-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let auto = m.tokenizer.spec.addBOS ? "auto (prepend)" : "auto (none)"
        for (option, recorded, count) in [(nil, "prepend", ids.count), ("none", "none", ids.count - 1),
                                          ("auto", auto, m.tokenizer.spec.addBOS ? ids.count : ids.count - 1)] {
            let out = dir.appendingPathComponent(option ?? "default").path
            let result = try json(runLoupe(["graph", "--model", Self.model, "--prompt", prompt, "--transcoders",
                                            Self.graph.appendingPathComponent("transcoders").path, "--out-dir", out, "--format", "json"]
                                           + (option.map { ["--bos", $0] } ?? []))) as! [String: Any]
            #expect((result["tokens"] as! [String]).count == count, "--bos \(option ?? "default")")
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/\(option ?? "default").json"))) as! [String: Any]
            #expect((doc["metadata"] as! [String: Any])["bos"] as? String == recorded)
            let summary = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8).split(separator: "\n")
            #expect(summary.contains { $0.hasPrefix("BOS:") && $0.hasSuffix(" " + recorded) }, "summary.txt: \(summary.prefix(4))")
        }
        let intervened = try json(runLoupe(["graph", "intervene", "--model", Self.model, "--prompt", prompt, "--bos", "none", "--transcoders",
                                            Self.graph.appendingPathComponent("transcoders").path, "--scale", "0:2:7=2", "--format", "json"])) as! [String: Any]
        #expect((intervened["tokens"] as! [[String: Any]]).count == 10)
        #expect(loupeError(["graph", "--model", Self.model, "--prompt", prompt, "--transcoders", Self.graph.path, "--bos", "maybe"]).contains("maybe"))
    }
}
