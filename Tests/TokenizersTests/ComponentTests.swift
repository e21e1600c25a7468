import Foundation
import Testing
import Tokenizers

/// Building blocks through the public API: byte table, pre-tokenizers, streaming decode,
/// chat templates, spec validation. No model needed.
@Suite struct ComponentTests {
    @Test func byteLevelTableIsABijection() throws {
        let scalars = ByteLevel.byteToScalar
        #expect(scalars.count == 256)
        #expect(Set(scalars).count == 256)
        #expect(scalars[0x20] == "Ġ" && scalars[0x0A] == "Ċ" && scalars[Int(UInt8(ascii: "A"))] == "A")
        let all = (0...255).map { UInt8($0) }
        #expect(ByteLevel.decode(ByteLevel.encode(all)) == all)
        #expect(ByteLevel.decode("é") == [0xE9] || ByteLevel.decode("é") == nil)
        #expect(ByteLevel.decode("ĠParis") == Array(" Paris".utf8))
        #expect(ByteLevel.decode("€") == nil)
    }

    @Test func smolLMSplitsDigitsBeforeTheGPT2Regex() throws {
        let pre = try PreTokenizer.named("smollm")
        #expect(try pre.split("  42") == ["  ", "4", "2"])
        #expect(try pre.split("Hello world! 123") == ["Hello", " world", "!", " ", "1", "2", "3"])
        #expect(try pre.split("x³ ½") == ["x", "³", " ", "½"])  // \p{N} includes No
        #expect(try pre.split("") == [])
    }

    @Test func gpt2RegexWhitespaceSemantics() throws {
        let pre = try PreTokenizer.named("gpt2")
        // \s+(?!\S): a run of spaces leaves its last space to the following word.
        #expect(try pre.split("a   b") == ["a", "  ", " b"])
        #expect(try pre.split("a   ") == ["a", "   "])
        #expect(try pre.split("a\t\tb") == ["a", "\t", "\t", "b"])
        #expect(try pre.split("don't STOP'S") == ["don", "'t", " STOP", "'", "S"])
        // U+000B and U+0085 are white space (as in Oniguruma / Rust), not punctuation.
        #expect(try pre.split("x\u{0B}\u{85}y") == ["x", "\u{0B}", "\u{85}", "y"])
        // Astral characters and ZWJ sequences stay whole (UTF-16 offsets handled).
        #expect(try pre.split("a 👨‍👩‍👧 b") == ["a", " 👨‍👩‍👧", " b"])
    }

    @Test func llama3AndQwen2Regexes() throws {
        let llama = try PreTokenizer.named("llama-bpe")
        #expect(try llama.split("12345 I'M here\n\n  x") == ["123", "45", " I", "'M", " here", "\n\n", " ", " x"])
        let qwen = try PreTokenizer.named("qwen2")
        #expect(try qwen.split("12345") == ["1", "2", "3", "4", "5"])
    }

    @Test func everyCatalogNameCompiles() throws {
        #expect(PreTokenizer.knownNames.count > 30)
        for name in PreTokenizer.knownNames {
            let pre = try PreTokenizer.named(name)
            #expect(!pre.patterns.isEmpty)
            #expect(try pre.split("Hello, world 2024!\n  ok").joined() == "Hello, world 2024!\n  ok", "\(name)")
        }
    }

    @Test func streamingDecoderHoldsBackPartialCharacters() throws {
        let tok = try Fixtures.tiny("tiny_gpt2")
        let text = "é😀你 ok"
        let ids = try tok.encode(text)
        var stream = tok.streamingDecoder()
        var pieces: [String] = []
        for id in ids { pieces.append(stream.push(id)) }
        #expect(!stream.hasPendingBytes)
        #expect(pieces.joined() + stream.finish() == text)
        #expect(pieces.allSatisfy { !$0.contains("\u{FFFD}") })
        // An unfinished character is held back, then flushed as U+FFFD.
        var partial = tok.streamingDecoder()
        let firstEmojiByte = tok.id(of: String(ByteLevel.byteToScalar[0xF0]))!
        #expect(partial.push(firstEmojiByte) == "")
        #expect(partial.hasPendingBytes)
        #expect(partial.finish() == "\u{FFFD}")
        // Plain decode of the same lone byte is lossy right away.
        #expect(tok.decode([firstEmojiByte]) == "\u{FFFD}")
    }

    @Test func decodeSkipsSpecialsAndBadIds() throws {
        let tok = try Fixtures.tiny("tiny_qwen2")
        let ids = try tok.encode("<|im_start|>user\nhi<|im_end|>")
        #expect(ids.first == tok.id(of: "<|im_start|>"))
        #expect(tok.decode(ids) == "<|im_start|>user\nhi<|im_end|>")
        #expect(tok.decode(ids, skipSpecial: true) == "user\nhi")
        #expect(tok.decode([-5, 1_000_000] + ids, skipSpecial: true) == "user\nhi")
    }

    @Test func chatTemplatesOutsideChatMLAreRejected() throws {
        let base = try Fixtures.tiny("tiny_qwen2")
        var spec = base.spec
        spec.chatTemplate = "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"
        let mistral = try Tokenizer(spec: spec)
        expectError(containing: ["ChatML", "[INST]"]) {
            try mistral.applyChatTemplate(messages: [ChatMessage(role: "user", content: "x")], addGenerationPrompt: true)
        }
        // Plain ChatML without a default system message.
        spec.chatTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        let chatml = try Tokenizer(spec: spec)
        #expect(chatml.defaultSystemPrompt == nil)
        #expect(try chatml.applyChatTemplate(messages: [ChatMessage(role: "user", content: "x")], addGenerationPrompt: true)
                == "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func specValidation() throws {
        let pre = try PreTokenizer.named("gpt2")
        expectError(containing: ["empty vocabulary", "mine"]) {
            try Tokenizer(spec: TokenizerSpec(tokens: [], tokenTypes: [], merges: [], preTokenizer: pre, source: "mine"))
        }
        expectError(containing: ["eos token id 7", "0..<1"]) {
            try Tokenizer(spec: TokenizerSpec(tokens: ["a"], tokenTypes: [], merges: [], preTokenizer: pre, eosID: 7))
        }
        // A hand-built vocabulary: every byte plus one merge.
        let bytes = ByteLevel.byteToScalar.map { String(Character($0)) }
        let tok = try Tokenizer(spec: TokenizerSpec(tokens: bytes + ["Ġa", "<s>"],
                                                    tokenTypes: [TokenType](repeating: .normal, count: 257) + [.control],
                                                    merges: ["Ġ a"], preTokenizer: pre, bosID: 257, addBOS: true))
        #expect(try tok.encode(" a a", addSpecialTokens: true) == [257, 256, 256])
        #expect(try tok.encode("<s>", parseSpecial: false) == [60, 115, 62])
    }
}
