import Foundation
import GRDB
import Linalg
import LoupeCLI
import LoupeTestSupport
import Models
import Store
import Testing

/// A fresh temporary folder for one test's files.
func captureFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-capture-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The message the CLI prints for what `args` throws ("(no error)" if nothing).
func loupeError(_ args: [String]) -> String {
    do { _ = try runLoupe(args); return "(no error)" } catch { return Loupe.message(for: error) }
}

let labelledPrompts = """
    {"text": "The Eiffel Tower is located in the city of", "subject": "Eiffel Tower", "label": 1}
    {"text": "Robert'); DROP TABLE prompt; -- said \\"hi\\"\\u0000 to Paris", "subject": "Robert", "label": 0}
    {"text": "The Colosseum is in", "subject": "Colosseum", "label": 1}
    """

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct CaptureCommandTests {
    @Test func storedRowsEqualTheLivePassBitForBit() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.jsonl").path
        try labelledPrompts.write(toFile: prompts, atomically: true, encoding: .utf8)
        let m = try RealModel.shared()
        let hooks = "blocks.29.hook_resid_post,blocks.3.attn.hook_z,blocks.1[0-1].mlp.hook_post,blocks.2.attn.hook_pattern,hook_embed"
        let points = try HookPattern.resolve(hooks, config: m.config)
        #expect(points.count == 6)
        let texts = try PromptFile.read(prompts).map(\.text)
        let ids = try texts.map { try m.tokenizer.encode($0) }
        // One capture into a fresh store and one live pass; returns the (hook, prompt) pairs
        // whose stored bits differ from the live pass.
        func mismatches(_ positions: String, _ dtype: String, _ attempt: Int) throws -> [String] {
            let cache = ActivationCache()
            var set = HookSet()
            set.capture(points, into: cache)
            _ = try m.transformer.forward(ids, hooks: set, logits: .none)
            let store = dir.appendingPathComponent("rt-\(positions)-\(dtype)-\(attempt).db").path
            _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", hooks, "--positions=\(positions)",
                              "--dtype", dtype, "--store", store])
            let db = try ActivationStore(path: store)
            #expect(try db.verify().isEmpty && db.integrityCheck() == ["ok"])
            let capture = try db.capture(id: 1)
            let stored = try db.prompts(dataset: capture.datasetID)
            #expect(stored.map(\.text) == texts)
            var bad: [String] = []
            for (i, p) in stored.enumerated() {
                #expect(p.tokens == ids[i])
                for point in points {
                    let got = try #require(try db.activation(capture: capture, hook: point.name, prompt: p.id))
                    let live = cache.tensor(point, sequence: i)!
                    let rows = got.positions
                    if positions == "all" { #expect(rows == Array(0..<ids[i].count)) }
                    if positions == "-2" { #expect(rows == [ids[i].count - 2]) }
                    var expected: [Float] = []
                    if case .pattern = point {
                        let (h, q, k) = (live.shape[0], live.shape[1], live.shape[2])
                        for r in rows { for hh in 0..<h { expected += live.scalars[((hh * q + r) * k)..<((hh * q + r + 1) * k)] } }
                    } else {
                        let w = live.count / live.shape[0]
                        for r in rows { expected += live.scalars[(r * w)..<((r + 1) * w)] }
                    }
                    if dtype == "f16" { expected = expected.map { Float(Float16($0)) } }
                    if got.tensor.scalars.map(\.bitPattern) != expected.map(\.bitPattern) { bad.append("\(point) prompt \(i)") }
                }
            }
            return bad
        }

        // The forward pass is deterministic (same inputs, same batch, same bits: nothing
        // changes OpenBLAS's thread count under it), so stored f32 rows must equal it exactly.
        for (positions, dtype) in [("all", "f32"), ("subject", "f32"), ("-2", "f16")] {
            let bad = try mismatches(positions, dtype, 0)
            #expect(bad.isEmpty, "\(positions) \(dtype): \(bad)")
        }
        // The subject's last token: ' Tower', 'Robert', and the 'um' that ends ' Colosseum'.
        let db = try ActivationStore(path: dir.appendingPathComponent("rt-subject-f32-0.db").path)
        let stored = try db.prompts(dataset: try db.capture(id: 1).datasetID)
        let positions = try stored.map { try db.activation(capture: db.capture(id: 1), hook: "hook_embed", prompt: $0.id)!.positions[0] }
        #expect(positions.enumerated().map { m.tokenizer.tokenString(ids[$0][$1]) } == [" Tower", "Robert", "um"])
    }

    @Test func captureResumesAndStoreCommandsReadIt() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.jsonl").path
        try labelledPrompts.write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("s.db").path
        let args = ["capture", "--prompts", prompts, "--hooks", "blocks.1[0-1].hook_resid_post", "--positions", "last",
                    "--store", store, "--batch-size", "2", "--format", "json"]
        let first = try json(runLoupe(args)) as! [String: Any]
        #expect(first["capturedPrompts"] as? Int == 3 && first["hooks"] as? Int == 2 && first["dtype"] as? String == "f16")
        let again = try json(runLoupe(args)) as! [String: Any]
        #expect(again["capturedPrompts"] as? Int == 0 && again["alreadyStored"] as? Int == 3)

        let ls = try json(runLoupe(["store", "ls", store, "--format", "json"])) as! [[String: Any]]
        #expect(ls.count == 1)
        #expect(ls[0]["hooks"] as? [String] == ["blocks.10.hook_resid_post", "blocks.11.hook_resid_post"])
        #expect(ls[0]["promptsDone"] as? Int == 3 && ls[0]["rowsPerHook"] as? Int == 3)
        #expect(ls[0]["bytes"] as? Int == 2 * 3 * 576 * 2)
        let text = try runLoupe(["store", "ls", store])
        #expect(text.contains("1  SmolLM2 135M Instruct") || text.contains("1  "), "\(text)")
        let show = try runLoupe(["store", "show", store])
        #expect(show.contains("capture 1: dataset p.jsonl, positions last, f16, 3/3 prompts, 3 rows per hook"), "\(show)")
        #expect(show.contains("label=0 subject=Robert: Robert'); DROP TABLE prompt; -- said \"hi\"\u{0} to Paris"), "\(show)")

        let npy = dir.appendingPathComponent("x.npy").path
        _ = try runLoupe(["store", "export", store, "--hook", "blocks.11.hook_resid_post", "--out", npy])
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        let header = Int(data[8]) | Int(data[9]) << 8
        #expect(data.count == 10 + header + 3 * 576 * 4)
        #expect(String(decoding: data[10..<(10 + header)], as: UTF8.self).contains("'shape': (3, 576)"))
        let labels = try String(contentsOfFile: dir.appendingPathComponent("x.rows.jsonl").path, encoding: .utf8)
            .split(separator: "\n").map { try json(String($0)) as! [String: Any] }
        #expect(labels.map { $0["label"] as? Int } == [1, 0, 1])
        #expect(labels.map { $0["prompt"] as? Int } == [0, 1, 2])

        let csv = dir.appendingPathComponent("x.csv").path
        _ = try runLoupe(["store", "export", store, "--hook", "blocks.10.hook_resid_post", "--out", csv, "--limit", "2"])
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("prompt,position,token,d0,d1,") && lines[1].split(separator: ",").count == 3 + 576)

        let vacuum = try runLoupe(["store", "vacuum", store])
        #expect(vacuum.contains("integrity ok"), "\(vacuum)")
        #expect(try runLoupe(["store", "verify", store]) == "\(store): ok (SQLite integrity and Loupe's invariants)\n")

        // One activation row deleted behind Loupe's back: export fails naming the gap, verify lists it.
        try DatabaseQueue(path: store).write { try $0.execute(sql: "DELETE FROM activation WHERE hook = 'blocks.11.hook_resid_post' AND prompt_id = 2") }
        let gap = loupeError(["store", "export", store, "--hook", "blocks.11.hook_resid_post", "--out", npy])
        #expect(gap.contains("capture 1 hook blocks.11.hook_resid_post prompt 1 (line 2): the capture records this prompt but its activation row is missing"), "\(gap)")
        #expect(loupeError(["store", "verify", store]) != "(no error)")  // exits 1, after listing the problem
    }

    @Test func aPromptLongerThanTheContextNamesItsLineBeforeTheStoreIsMade() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("long.txt").path
        try ("A short one\n" + String(repeating: " word", count: 9000) + "\nanother\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("long.db").path
        let message = loupeError(["capture", "--prompts", prompts, "--hooks", "hook_embed", "--store", store])
        #expect(message.contains("\(prompts):2: ") && message.contains("tokens, longer than the model's context of 8192 tokens"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test func overwriteStartsANewStoreInANewFolder() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.jsonl").path
        try labelledPrompts.write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("new/folder/s.db").path
        let args = ["capture", "--prompts", prompts, "--hooks", "hook_embed", "--positions", "last", "--store", store]
        let first = try runLoupe(args)
        #expect(first == "capture 1 in \(store): 1 hook(s), positions last, f16\n3 prompts, 31 tokens captured; 0 already stored; 3 in the dataset\n")
        #expect(try runLoupe(args).contains("0 prompts, 0 tokens captured; 3 already stored"))
        // Another capture in the same store, then --overwrite: only the new capture is left.
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", "hook_embed", "--positions", "all", "--store", store])
        #expect(try ActivationStore(path: store).captures().count == 2)
        #expect(try runLoupe(args + ["--overwrite"]) == first)
        #expect(try ActivationStore(path: store).captures().count == 1)
        // A file that is not a store is never deleted.
        let notes = dir.appendingPathComponent("notes.txt").path
        try "keep me".write(toFile: notes, atomically: true, encoding: .utf8)
        let refused = loupeError(["capture", "--prompts", prompts, "--hooks", "hook_embed", "--store", notes, "--overwrite"])
        #expect(refused.hasPrefix("\(notes): not a Loupe activation store"), "\(refused)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "keep me")
    }

    @Test func badInputsHaveClearErrors() throws {
        let dir = try captureFolder()
        let store = dir.appendingPathComponent("s.db").path
        func capture(_ prompts: String, hooks: String = "blocks.0.hook_resid_post", positions: String = "all",
                     _ extra: [String] = []) -> String {
            loupeError(["capture", "--prompts", prompts, "--hooks", hooks, "--positions", positions, "--store", store] + extra)
        }
        let empty = dir.appendingPathComponent("empty.txt").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(capture(empty) == "\(empty): no prompts in the file")
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try "{\"text\": \"ok\"}\n{\"text\": oops}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(capture(bad) == "\(bad):2: not a JSON object")
        let good = dir.appendingPathComponent("good.jsonl").path
        try labelledPrompts.write(toFile: good, atomically: true, encoding: .utf8)
        #expect(capture(good, hooks: "blocks.*.hook_resid_psot").hasPrefix(
            "hook pattern 'blocks.*.hook_resid_psot' matches no hook point: did you mean 'blocks.*.hook_resid_post'"))
        #expect(capture(good, positions: "middle").contains("--positions must be all, last, subject or an integer, not 'middle'"))
        #expect(capture(good, positions: "40") == "\(good):1: position 40 is outside the prompt's 10 tokens")
        let noSubject = dir.appendingPathComponent("ns.jsonl").path
        try "{\"text\": \"The Louvre is in\", \"subject\": \"Eiffel\"}\n".write(toFile: noSubject, atomically: true, encoding: .utf8)
        #expect(capture(noSubject, positions: "subject") ==
            "\(noSubject):1: subject 'Eiffel' is not in the prompt's tokens ['The', ' Lou', 'vre', ' is', ' in']")
        #expect(!FileManager.default.fileExists(atPath: store), "bad input must not create the store")

        let junk = dir.appendingPathComponent("junk.db").path
        try String(repeating: "garbage ", count: 1000).write(toFile: junk, atomically: true, encoding: .utf8)
        #expect(loupeError(["store", "ls", junk]).hasPrefix("\(junk): not a Loupe activation store (file is not a database"))
        #expect(loupeError(["capture", "--prompts", good, "--hooks", "hook_embed", "--store", junk]).hasPrefix("\(junk): not a Loupe activation store"))
        #expect(loupeError(["store", "ls", dir.appendingPathComponent("none.db").path]).hasSuffix("none.db: no store file"))

        // A store made with another model.
        let other = dir.appendingPathComponent("other.db").path
        let config = try RealModel.shared().config
        _ = try ActivationStore(path: other, create: true).register(ModelIdentity(
            name: "Other", architecture: "llama", path: "/models/other.gguf", fileHash: "0123456789abcdef", fileSize: 1,
            tokenizerHash: "0123456789abcdef", config: config))
        let mismatch = loupeError(["capture", "--prompts", good, "--hooks", "hook_embed", "--store", other])
        #expect(mismatch.hasPrefix("\(other): made with model Other (/models/other.gguf) (hash 0123456789abcdef), not Smollm2 135M"), "\(mismatch)")
        #expect(mismatch.contains("--allow-model-mismatch"))
        let forced = try json(runLoupe(["capture", "--prompts", good, "--hooks", "hook_embed", "--store", other,
                                        "--allow-model-mismatch", "--format", "json"])) as! [String: Any]
        #expect(forced["capturedPrompts"] as? Int == 3)
        #expect(try ActivationStore(path: other).models().count == 2)
    }
}
