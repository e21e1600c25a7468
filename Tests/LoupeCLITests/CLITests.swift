import ArgumentParser
import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Testing

/// Runs `loupe` commands in process and checks their exact output.
func runLoupe(_ args: [String]) throws -> String {
    try Loupe.runInProcess(args)
}

func json(_ s: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(s.utf8))
}

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct CLIRealModelTests {
    @Test func runPredictsParis() throws {
        let out = try json(runLoupe(["run", "--format", "json", "--top-k", "3", "The capital of France is"])) as! [String: Any]
        #expect(out["ids"] as? [Int] == [504, 3575, 282, 4649, 314])
        let top = out["top"] as! [[String: Any]]
        #expect(top.count == 3)
        #expect(top[0]["id"] as? Int == 7042)
        #expect(top[0]["token"] as? String == " Paris")
        let p = top[0]["probability"] as! Double
        #expect(p > 0.7 && p < 0.85)
    }

    @Test func runTakesManyPromptsFromJSONL() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-cli-\(UUID()).jsonl")
        try """
        {"text": "The capital of France is"}
        {"text": "The Eiffel Tower is located in the city of", "label": 1}
        """.write(to: file, atomically: true, encoding: .utf8)
        let out = try json(runLoupe(["run", "--format", "json", "--top-k", "1", "--input", file.path])) as! [[String: Any]]
        #expect(out.count == 2)
        #expect(out.map { ($0["top"] as! [[String: Any]])[0]["id"] as? Int } == [7042, 7042])
    }

    /// OpenBLAS's thread count is process-wide; an in-process command's `--threads` (a
    /// notebook cell's, say) must not outlive the command.
    @Test func threadsLastOnlyAsLongAsTheCommand() throws {
        let before = BLAS.threadCount
        let other = before == 1 ? 2 : 1
        let out = try runLoupe(["run", "--threads", "\(other)", "--top-k", "1", "The capital of France is"])
        #expect(out.contains("'␣Paris'"))
        #expect(BLAS.threadCount == before)
    }

    @Test func tokenizeShowsIdsAndPieces() throws {
        let out = try runLoupe(["tokenize", "Hello  42 world<|im_end|>"])
        #expect(out == "6 tokens: 19556 256 36 34 905 2\nHello | ␣␣ | 4 | 2 | ␣world | <|im_end|>\n")
        let literal = try json(runLoupe(["tokenize", "--format", "json", "--no-parse-special", "<|im_end|>"])) as! [String: Any]
        #expect((literal["ids"] as! [Int]).count > 1)
    }

    @Test func generateIsGreedyByDefault() throws {
        let out = try json(runLoupe(["generate", "--format", "json", "--max-tokens", "6",
                                     "The Eiffel Tower is located in the city of"])) as! [String: Any]
        #expect(out["ids"] as? [Int] == [7042, 28, 4649, 30, 2])
        #expect(out["stopReason"] as? String == "stopToken")
        #expect(out["text"] as? String == " Paris, France.<|im_end|>")
    }

    @Test func hooksListsEveryPoint() throws {
        let out = try json(runLoupe(["hooks", "--format", "json"])) as! [[String: Any]]
        #expect(out.count == 2 + 30 * 17)
        #expect(out[0]["name"] as? String == "hook_embed")
        #expect(out.last?["name"] as? String == "ln_final.hook_normalized")
        let pattern = out.first { $0["name"] as? String == "blocks.3.attn.hook_pattern" }!
        #expect(pattern["shape"] as? [String] == ["9", "pos", "keys"])
    }

    @Test func infoReportsTheModel() throws {
        let out = try json(runLoupe(["info", "--format", "json"])) as! [String: Any]
        let config = out["config"] as! [String: Any]
        #expect(config["nLayers"] as? Int == 30)
        #expect(config["nKVHeads"] as? Int == 3)
        #expect(out["parameters"] as? Int == 134_515_008)
    }
}

@Suite struct CLIInputErrorTests {
    @Test func badInputFilesNameTheLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-bad-\(UUID()).jsonl")
        try "{\"text\": \"ok\"}\n{not json}\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try runLoupe(["run", "--model", "/nonexistent.gguf", "x"]) }
        do {
            _ = try runLoupe(["tokenize", "--model", TestFiles.realModelPath ?? "/nonexistent", "--input", file.path])
            Issue.record("expected an error")
        } catch {
            let message = Loupe.message(for: error)
            #expect(message.contains(":2: not a JSON object") || message.contains("not found"), "\(message)")
        }
    }

    @Test func missingArgumentsAreValidationErrors() throws {
        #expect(throws: (any Error).self) { try Loupe.parseAsRoot(["run"]) }
        #expect(throws: (any Error).self) { try Loupe.parseAsRoot(["generate", "--max-tokens", "0", "x"]) }
        #expect(throws: (any Error).self) { try Loupe.parseAsRoot(["run", "--top-k", "0", "x"]) }
    }
}
