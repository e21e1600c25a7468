import Formats
import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe graph`'s picture and page with feature contexts (from a store and from a corpus), and
/// `graph intervene --recompute-attention`, on the tiny Llama with the committed transcoder set.
@Suite struct GraphReportCommandTests {
    static let model = GraphCommandTests.model
    static let graph = GraphCommandTests.graph
    static let transcoders = graph.appendingPathComponent("transcoders").path

    /// The context lines of a page (label left out: store and live passes may round the last digit differently).
    static func contextLines(_ html: String) -> [String] {
        html.components(separatedBy: "\n").filter { $0.contains("<mark") }.map { line in
            line.components(separatedBy: "</span>").dropFirst().joined(separator: "</span>")
        }
    }

    @Test func contextsFromAStoreAndFromACorpusAreTheSame() throws {
        let dir = try captureFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus.jsonl").path
        let docs = ["The capital of France is Paris, and the capital of Italy is Rome. Both cities are old and large.",
                    "A river runs through the town; the bridge over it is made of stone and wood, and it is very old."]
        try docs.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }.joined(separator: "\n")
            .write(toFile: corpus, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("acts.db").path
        _ = try runLoupe(["capture", "--model", Self.model, "--corpus", corpus, "--context", "12", "--hooks", "blocks.*.mlp.hook_in",
                          "--dtype", "f32", "--store", store, "--format", "json"])
        func page(_ extra: [String], _ name: String) throws -> (json: [String: Any], html: String) {
            let out = dir.appendingPathComponent(name).path
            let result = try json(runLoupe(["graph", "--model", Self.model, "--prompt", "The capital of", "--transcoders", Self.transcoders,
                                            "--out-dir", out, "--top-contexts", "3", "--format", "json"] + extra)) as! [String: Any]
            return (result, try String(contentsOfFile: out + "/index.html", encoding: .utf8))
        }
        let fromStore = try page(["--store", store], "store"), fromCorpus = try page(["--corpus", corpus, "--context", "12"], "corpus")
        let lines = Self.contextLines(fromStore.html)
        #expect(lines.count >= 3, "the kept features fire somewhere in the corpus")
        #expect(lines == Self.contextLines(fromCorpus.html))
        #expect(fromStore.html.contains("Top-activating contexts from store acts.db"))
        #expect(fromCorpus.html.contains("Top-activating contexts from") && fromCorpus.html.contains("corpus windows"))
        #expect(!fromStore.html.contains("rerun with --store"))
        // The SVG is written beside the page and holds the kept nodes.
        let svg = try String(contentsOfFile: dir.appendingPathComponent("store/graph.svg").path, encoding: .utf8)
        #expect(svg.components(separatedBy: "<g class=\"node\"").count - 1 == fromStore.json["keptNodes"] as? Int)
        // A store without the transcoders' input hooks is named with the hook it lacks.
        let other = dir.appendingPathComponent("other.db").path
        _ = try runLoupe(["capture", "--model", Self.model, "--corpus", corpus, "--context", "12", "--hooks", "hook_embed", "--store", other])
        #expect(loupeError(["graph", "--model", Self.model, "--prompt", "The capital of", "--transcoders", Self.transcoders,
                            "--out-dir", dir.appendingPathComponent("x").path, "--store", other]).contains("mlp.hook_in"))
        // One captured with another model is refused, naming it.
        let qwen = dir.appendingPathComponent("qwen.db").path
        _ = try runLoupe(["capture", "--model", TestFiles.fixtures.appendingPathComponent("models/tiny-qwen2").path, "--corpus", corpus,
                          "--context", "12", "--hooks", "hook_embed", "--store", qwen])
        #expect(loupeError(["graph", "--model", Self.model, "--prompt", "The capital of", "--transcoders", Self.transcoders,
                            "--out-dir", dir.appendingPathComponent("y").path, "--store", qwen]).contains("another model's activations"))
    }

    @Test func graphRefusesConflictingContextOptions() {
        let base = ["graph", "--model", Self.model, "--prompt", "The", "--transcoders", Self.transcoders]
        #expect(loupeError(base + ["--store", "a.db", "--corpus", "c.jsonl", "--context", "8"]).contains("not both"))
        #expect(loupeError(base + ["--corpus", "c.jsonl"]).contains("--corpus needs --context"))
        #expect(loupeError(base + ["--figure-nodes", "0"]).contains("--figure-nodes must be at least 1"))
    }

    /// `graph intervene --recompute-attention`: the after-probabilities are those of
    /// circuit-tracer's logits with freeze_attention=False.
    @Test func interveneWithRecomputedAttentionReportsCircuitTracersProbabilities() throws {
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.graph.appendingPathComponent("graph.json"))) as! [String: Any]
        let edit = (ref["interventions"] as! [[[Double]]])[0][0].map { Int($0) }
        let result = try json(runLoupe(["graph", "intervene", "--model", Self.model, "--prompt", ref["prompt"] as! String,
                                        "--transcoders", Self.transcoders, "--set", "\(edit[0]):\(edit[1]):\(edit[2])=0",
                                        "--recompute-attention", "--format", "json"])) as! [String: Any]
        #expect(result["attention"] as? String == "recomputed")
        let logits = try NumPyArray.read(path: Self.graph.appendingPathComponent("intervention-logits-recomputed.npy").path).scalars
        let vocab = logits.count / 2, top = logits[0..<vocab].max()!
        let sum = logits[0..<vocab].reduce(0.0) { $0 + Foundation.exp(Double($1 - top)) }
        let rows = result["tokens"] as! [[String: Any]]
        #expect(rows.count == 10)
        for row in rows {
            let want = Foundation.exp(Double(logits[row["id"] as! Int] - top)) / sum
            #expect(abs((row["after"] as! Double) - want) < 1e-4, "token \(row["id"]!)")
        }
    }
}
