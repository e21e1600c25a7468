import Foundation
import Testing
import Tokenizers

/// Pre-tokenizer regexes come from model files, so a pattern that backtracks catastrophically
/// must end in an error naming it, not in a hang: `(a+)+$` on 5,000 `a`s and a `b` used to run
/// for hours. The real tokenizers' patterns are checked elsewhere to split exactly as before.
@Suite struct RegexBudgetTests {
    static let hostile = "(a+)+$"
    static let text = String(repeating: "a", count: 5_000) + "b"

    func tooSlow(_ body: () throws -> Void) -> (pattern: String, length: Int, message: String)? {
        do { try body() } catch let error as TokenizerError {
            if case let .patternTooSlow(pattern, length, _) = error { return (pattern, length, error.description) }
        } catch {}
        return nil
    }

    @Test func aCatastrophicPatternStopsWithAnErrorNamingIt() throws {
        let pre = try PreTokenizer(name: "hostile", patterns: [Self.hostile])
        let stopped = try #require(tooSlow { _ = try pre.split(Self.text) })
        #expect(stopped.pattern == Self.hostile && stopped.length == 5_001)
        #expect(stopped.message.contains("\"(a+)+$\"") && stopped.message.contains("5001 UTF-16 units"))
        // The same pattern where it does not backtrack is fine.
        #expect(try pre.split(String(repeating: "a", count: 5_000)) == [String(repeating: "a", count: 5_000)])
    }

    /// A tokenizer.json whose `Split` pre-tokenizer carries the pattern loads, and encoding a
    /// text on which it backtracks throws instead of hanging.
    @Test func aTokenizerJSONWithTheHostileSplitThrowsOnEncode() throws {
        let original = try Data(contentsOf: Fixtures.directory.appendingPathComponent("tiny_gpt2/tokenizer.json"))
        var json = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        json["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": Self.hostile], "behavior": "Isolated", "invert": false],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        ]]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID()).json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokenizer = try Tokenizer(tokenizerJSON: path)
        #expect(try tokenizer.encode("hello aab") == tokenizer.encode("hello aab"))
        #expect(tooSlow { _ = try tokenizer.encode("say " + Self.text) }?.pattern == Self.hostile)
    }

    /// The byte-level regexes stay far inside the budget on long texts of every kind of run.
    @Test(arguments: ["gpt2", "llama-bpe", "qwen2", "smollm", "default", "bloom"])
    func catalogPatternsSplitLongTextsWithinTheBudget(name: String) throws {
        let pre = try PreTokenizer.named(name)
        let n = 40_000
        for text in [String(repeating: " ", count: n) + "x", String(repeating: "!", count: n), String(repeating: "7", count: n),
                     String(repeating: " \n", count: n / 2), String(repeating: "é ", count: n / 2), String(repeating: "a", count: n) + "b"] {
            #expect(try pre.split(text).joined() == text, "\(name)")
        }
    }
}
