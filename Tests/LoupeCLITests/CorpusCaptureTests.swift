import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Models
import Store
import Testing

/// Three short documents of real English (a fortune, a WordNet-style gloss list, prose).
let corpusDocuments: [(text: String, source: String)] = [
    ("""
    A clash of doctrine is not a disaster -- it is an opportunity.

    A cloud does not know why it moves in just such a direction and at such a speed. It feels \
    an impulsion; this is the place to go now. But the sky knows the reasons and the patterns \
    behind all clouds, and you will know, too, when you lift yourself high enough to see \
    beyond horizons.
    """, "fortunes:wisdom"),
    ("""
    chariot: a two-wheeled horse-drawn battle vehicle; used in war and races in ancient Egypt and Greece and Rome

    charm, good luck charm: something believed to bring good luck

    chart: a map designed to assist navigation by air or sea
    """, "wordnet:noun.artifact"),
    ("""
    The Python interpreter is usually installed as /usr/local/bin/python3 on those machines where it \
    is available; putting /usr/local/bin in your Unix shell's search path makes it possible to start \
    it by typing the command python3 to the shell.
    """, "python-doc:tutorial/interpreter.html"),
]

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct CorpusCaptureTests {
    func corpusFile(_ dir: URL) throws -> String {
        let path = dir.appendingPathComponent("corpus.jsonl").path
        let lines = try corpusDocuments.map { d in
            String(decoding: try JSONSerialization.data(withJSONObject: ["text": d.text, "source": d.source]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func windowsAreNTokenSlicesOfEachDocumentAndResume() throws {
        let dir = try captureFolder()
        let corpus = try corpusFile(dir)
        let store = dir.appendingPathComponent("c.db").path
        let m = try RealModel.shared()
        let docTokens = try corpusDocuments.map { try m.tokenizer.encode($0.text) }
        let expectedWindows = docTokens.reduce(0) { $0 + $1.count / 16 }
        #expect(expectedWindows >= 8, "the test corpus should make several windows: \(docTokens.map(\.count))")
        let args = ["capture", "--corpus", corpus, "--context", "16", "--hooks", "blocks.3.hook_resid_post",
                    "--dtype", "f32", "--store", store, "--batch-size", "4", "--format", "json"]
        let first = try json(runLoupe(args)) as! [String: Any]
        #expect(first["capturedPrompts"] as? Int == expectedWindows && first["documents"] as? Int == 3)
        #expect(first["capturedTokens"] as? Int == expectedWindows * 16 && first["context"] as? Int == 16)

        let db = try ActivationStore(path: store)
        let capture = try db.capture(id: 1)
        let windows = try db.prompts(dataset: capture.datasetID)
        #expect(windows.count == expectedWindows)
        #expect(windows.allSatisfy { $0.tokens.count == 16 })
        for (d, doc) in corpusDocuments.enumerated() {
            let mine = windows.filter { $0.metadata["document"] == .number(Double(d)) }
            #expect(mine.map { $0.metadata["window"] } == (0..<mine.count).map { .number(Double($0)) })
            #expect(mine.allSatisfy { $0.metadata["source"] == .string(doc.source) && $0.line == d + 1 })
            // The windows, concatenated, are the document's tokens without the partial tail.
            #expect(mine.flatMap(\.tokens) == Array(docTokens[d].prefix(docTokens[d].count / 16 * 16)))
            #expect(mine.map(\.text) == mine.map { String(decoding: m.tokenizer.bytes(for: $0.tokens), as: UTF8.self) })
        }
        // Stored rows are the pass over each window (a single-window pass, within float rounding).
        let probe = windows[windows.count / 2]
        let stored = try #require(try db.activation(capture: capture, hook: "blocks.3.hook_resid_post", prompt: probe.id))
        #expect(stored.positions == Array(0..<16) && stored.tensor.shape == [16, 576])
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture([.residPost(3)], into: cache)
        _ = try m.transformer.forward([probe.tokens], hooks: hooks, logits: .none)
        let live = try #require(cache.tensor(.residPost(3), sequence: 0))
        let scale = live.scalars.map(abs).max()!
        #expect(zip(stored.tensor.scalars, live.scalars).allSatisfy { abs($0 - $1) <= 1e-4 * scale })

        // Running again stores nothing new.
        let again = try json(runLoupe(args)) as! [String: Any]
        #expect(again["capturedPrompts"] as? Int == 0 && again["alreadyStored"] as? Int == expectedWindows)
        let ls = try json(runLoupe(["store", "ls", store, "--format", "json"])) as! [[String: Any]]
        #expect(ls.count == 1 && ls[0]["rowsPerHook"] as? Int == expectedWindows * 16)

        // The same documents as blank-line separated text make the same windows (no source).
        let txt = dir.appendingPathComponent("corpus.txt").path
        try corpusDocuments.map { $0.text.replacingOccurrences(of: "\n\n", with: "\n") }.joined(separator: "\n\n")
            .write(toFile: txt, atomically: true, encoding: .utf8)
        let txtStore = dir.appendingPathComponent("t.db").path
        _ = try runLoupe(["capture", "--corpus", txt, "--context", "16", "--hooks", "hook_embed", "--store", txtStore,
                          "--positions", "last"])
        let txtDB = try ActivationStore(path: txtStore)
        let txtWindows = try txtDB.prompts(dataset: txtDB.capture(id: 1).datasetID)
        let joinedDocs = try corpusDocuments.map { try m.tokenizer.encode($0.text.replacingOccurrences(of: "\n\n", with: "\n")) }
        #expect(txtWindows.map(\.tokens) == joinedDocs.flatMap { t in stride(from: 0, to: t.count / 16 * 16, by: 16).map { Array(t[$0..<($0 + 16)]) } })
        #expect(txtWindows.allSatisfy { $0.metadata["source"] == nil })
    }

    @Test func minWindowAndMaxTokens() throws {
        let dir = try captureFolder()
        let corpus = try corpusFile(dir)
        let m = try RealModel.shared()
        let lengths = try corpusDocuments.map { try m.tokenizer.encode($0.text).count }
        let store = dir.appendingPathComponent("c.db").path
        // Partial last windows of at least 1 token are kept: every token is in some window.
        let all = try json(runLoupe(["capture", "--corpus", corpus, "--context", "16", "--min-window", "1",
                                     "--hooks", "hook_embed", "--positions", "last", "--store", store, "--format", "json"])) as! [String: Any]
        #expect(all["capturedPrompts"] as? Int == lengths.reduce(0) { $0 + ($1 + 15) / 16 })
        #expect(all["capturedTokens"] as? Int == lengths.reduce(0, +))

        // --max-tokens takes whole batches: 2 windows of 16 per batch, cap 40 -> 2 batches.
        let capped = dir.appendingPathComponent("m.db").path
        let args = ["capture", "--corpus", corpus, "--context", "16", "--hooks", "hook_embed", "--store", capped,
                    "--batch-size", "2", "--format", "json"]
        let a = try json(runLoupe(args + ["--max-tokens", "40"])) as! [String: Any]
        #expect(a["capturedPrompts"] as? Int == 4 && a["capturedTokens"] as? Int == 64 && a["prompts"] as? Int == 4)
        let b = try json(runLoupe(args)) as! [String: Any]
        let windows = lengths.reduce(0) { $0 + $1 / 16 }
        #expect(b["alreadyStored"] as? Int == 4 && b["capturedPrompts"] as? Int == windows - 4)
    }

    @Test func badCorpusInputsHaveClearErrors() throws {
        let dir = try captureFolder()
        let corpus = try corpusFile(dir)
        let store = dir.appendingPathComponent("s.db").path
        func capture(_ extra: [String]) -> String {
            loupeError(["capture", "--hooks", "hook_embed", "--store", store] + extra)
        }
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try "\n\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(capture(["--corpus", empty, "--context", "16"]) == "\(empty): no documents in the corpus")
        #expect(capture(["--corpus", corpus, "--context", "0"]) == "the window length must be at least 1, not 0")
        #expect(capture(["--corpus", corpus, "--context", "9000"]) == "the window length 9000 is longer than the model's context of 8192 tokens")
        #expect(capture(["--corpus", corpus, "--context", "16", "--min-window", "17"])
            == "the shortest window must be between 1 and 16 (the document tokens of a window), not 17")
        #expect(capture(["--corpus", corpus, "--context", "4000"]) == "\(corpus): no windows: every document has fewer than 4000 tokens (the shortest window)")
        #expect(capture(["--corpus", corpus]).contains("--corpus needs --context N (tokens per window)"))
        #expect(capture(["--corpus", corpus, "--prompts", corpus, "--context", "16"]).contains("--prompts and --corpus cannot be used together"))
        #expect(capture([]).contains("give --prompts FILE or --corpus FILE --context N"))
        #expect(capture(["--prompts", corpus, "--context", "16"]).contains("--context and --min-window apply to --corpus only"))
        #expect(capture(["--corpus", corpus, "--context", "16", "--positions", "subject"]).contains("corpus windows have none"))
        #expect(capture(["--corpus", corpus, "--context", "16", "--max-tokens", "0"]).contains("--max-tokens must be at least 1, not 0"))
        #expect(!FileManager.default.fileExists(atPath: store), "bad input must not create the store")
    }
}
