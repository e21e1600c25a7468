import Foundation
import Testing
import Tokenizers

/// The tokenizer.json front end on tiny tokenizers trained by the fixture script, with
/// expected ids from Hugging Face `tokenizers`. No model needed.
@Suite struct TokenizerJSONTests {
    @Test(arguments: ["tiny_gpt2", "tiny_llama3", "tiny_qwen2"])
    func idsMatchTheReference(name: String) throws {
        let tok = try Fixtures.tiny(name)
        let cases = try Fixtures.cases(name + "/expected.json")
        #expect(cases.count >= 100)
        var mismatches: [String] = []
        for c in cases {
            let got = try tok.encode(c.text)
            if got != c.ids { mismatches.append("\(c.text.shortDebug): expected \(c.ids.prefix(12)), got \(got.prefix(12))") }
            if let withSpecial = c.idsWithSpecial {
                #expect(try tok.encode(c.text, addSpecialTokens: true) == withSpecial, "\(c.text.shortDebug)")
            }
            #expect(tok.decode(got) == c.text, "\(c.text.shortDebug)")
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test func frontEndReadsNamesFlagsAndSpecials() throws {
        let gpt2 = try Fixtures.tiny("tiny_gpt2")
        #expect(gpt2.preTokenizerName == "gpt2")
        #expect(gpt2.vocabSize == 420)
        #expect(gpt2.eosID == gpt2.id(of: "<|endoftext|>"))
        #expect(!gpt2.spec.addBOS)

        let llama = try Fixtures.tiny("tiny_llama3")
        #expect(llama.preTokenizerName == "llama-bpe")
        #expect(llama.spec.ignoreMerges)
        #expect(llama.spec.addBOS && llama.bosID == llama.id(of: "<|begin_of_text|>"))
        #expect(try llama.encode("hi", addSpecialTokens: true).first == llama.bosID)
        #expect(llama.eogIDs.contains(llama.id(of: "<|eot_id|>")!))

        let qwen = try Fixtures.tiny("tiny_qwen2")
        #expect(qwen.preTokenizerName == "qwen2")
        #expect(qwen.spec.normalization == .nfc)
        #expect(qwen.eosID == qwen.id(of: "<|im_end|>"))
        #expect(qwen.padID == qwen.id(of: "<|endoftext|>"))
        #expect(qwen.bosID == nil)
        // NFC: a decomposed é encodes like the precomposed one.
        #expect(try qwen.encode("e\u{301}") == qwen.encode("\u{E9}"))
    }

    /// The llama.cpp catalog's regexes (used for GGUF files) split like the tokenizer.json originals.
    @Test(arguments: [("tiny_gpt2", "gpt2"), ("tiny_llama3", "llama-bpe"), ("tiny_qwen2", "qwen2")])
    func catalogPreTokenizerAgreesWithTokenizerJSON(name: String, preName: String) throws {
        let fromJSON = try Fixtures.tiny(name)
        var spec = fromJSON.spec
        spec.preTokenizer = try PreTokenizer.named(preName)
        let fromCatalog = try Tokenizer(spec: spec)
        for c in try Fixtures.cases(name + "/expected.json") {
            #expect(try fromCatalog.encode(c.text) == c.ids, "\(preName): \(c.text.shortDebug)")
        }
    }

    /// SmolLM2's original tokenizer.json pre-tokenizer is recognised as `smollm` and splits like it.
    @Test func smolLMStyleTokenizerJSON() throws {
        let original = Fixtures.path("tiny_gpt2/tokenizer.json")
        var root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: original))) as! [String: Any]
        root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
            ["type": "Digits", "individual_digits": true],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        ]]
        let tok = try Tokenizer(tokenizerJSON: try Fixtures.temporaryJSON(root))
        #expect(tok.preTokenizerName == "smollm")
        var spec = try Fixtures.tiny("tiny_gpt2").spec
        spec.preTokenizer = try PreTokenizer.named("smollm")
        let reference = try Tokenizer(spec: spec)
        for text in ["  42", "Hello world! 123", "x = 3.14159", "a\t\t9"] {
            #expect(try tok.encode(text) == reference.encode(text), "\(text.shortDebug)")
        }
        #expect(try tok.encode("  42") == tok.encode("  ") + tok.encode("4") + tok.encode("2"))
    }

    @Test func concurrentEncodingAgrees() throws {
        let tok = try Fixtures.tiny("tiny_gpt2")
        let cases = try Fixtures.cases("tiny_gpt2/expected.json")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for c in cases.shuffled() where (try? tok.encode(c.text)) != c.ids { failures.add("\(worker): \(c.text.shortDebug)") }
        }
        #expect(failures.list.isEmpty)
    }

    @Test func chatTemplateFromConfigWithJinjaEscapes() throws {
        let qwen = try Fixtures.tiny("tiny_qwen2")
        #expect(qwen.defaultSystemPrompt == "You are a tiny test assistant.\nBe brief.")
        let text = try qwen.applyChatTemplate(messages: [ChatMessage(role: "user", content: "2+2?"),
                                                         ChatMessage(role: "assistant", content: "4")],
                                              addGenerationPrompt: false)
        #expect(text == "<|im_start|>system\nYou are a tiny test assistant.\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n")
        #expect(throws: TokenizerError.self) {
            try Fixtures.tiny("tiny_gpt2").applyChatTemplate(messages: [], addGenerationPrompt: true)
        }
    }

    @Test func unsupportedFilesFailWithClearErrors() throws {
        let wordPiece = try Fixtures.temporaryJSON(["model": ["type": "WordPiece", "vocab": ["a": 0]]])
        expectError(containing: ["WordPiece", "not supported"]) { try Tokenizer(tokenizerJSON: wordPiece) }

        let metaspace = try Fixtures.temporaryJSON([
            "model": ["type": "BPE", "vocab": ["a": 0], "merges": [String]()],
            "pre_tokenizer": ["type": "Metaspace"],
        ])
        expectError(containing: ["pre_tokenizer", "Metaspace"]) { try Tokenizer(tokenizerJSON: metaspace) }

        let fallback = try Fixtures.temporaryJSON([
            "model": ["type": "BPE", "vocab": ["a": 0], "merges": [String](), "byte_fallback": true],
        ])
        expectError(containing: ["byte_fallback"]) { try Tokenizer(tokenizerJSON: fallback) }

        expectError(containing: ["/no/such/tokenizer.json"]) { try Tokenizer(tokenizerJSON: "/no/such/tokenizer.json") }

        // One id of 1e9 used to allocate 16 GB and a billion placeholder names.
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true]
        let hugeID = try Fixtures.temporaryJSON([
            "model": ["type": "BPE", "vocab": ["a": 0, "b": 1_000_000_000], "merges": [String]()],
            "pre_tokenizer": byteLevel, "decoder": ["type": "ByteLevel"],
        ])
        expectError(containing: ["token 'b' has id 1000000000", "the file holds 2 tokens", "0..<65538"]) { try Tokenizer(tokenizerJSON: hugeID) }
        let negative = try Fixtures.temporaryJSON([
            "model": ["type": "BPE", "vocab": ["a": 0], "merges": [String]()],
            "pre_tokenizer": byteLevel, "decoder": ["type": "ByteLevel"],
            "added_tokens": [["id": -5, "content": "<x>", "special": true]],
        ])
        expectError(containing: ["added token '<x>' has id -5"]) { try Tokenizer(tokenizerJSON: negative) }
    }

    @Test func unknownPreTokenizerNameListsTheKnownOnes() throws {
        expectError(containing: ["unknown pre-tokenizer 'klingon'", "smollm", "llama-bpe", "qwen2", "gpt2"]) {
            try PreTokenizer.named("klingon")
        }
    }
}

/// A thread-safe list of failure messages.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var list: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Expects `body` to throw an error whose description contains every fragment.
func expectError(containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Any) {
    do {
        _ = try body()
        Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch {
        let text = "\(error)"
        for f in fragments where !text.contains(f) {
            Issue.record("error \(text.debugDescription) lacks \(f.debugDescription)", sourceLocation: sourceLocation)
        }
    }
}
