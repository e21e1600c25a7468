import Foundation
import Testing
import Tokenizers

/// The real SmolLM2 GGUF against ids from Hugging Face `tokenizers` (see
/// scripts/fixtures/tokenizers/make_tokenizer_fixtures.py). Skipped without the model.
@Suite(.enabled(if: Fixtures.hasModel, "real model not found: set LOUPE_MODEL or run scripts/setup.sh"))
struct SmolLM2Tests {
    let tok: Tokenizer
    let cases: [Fixtures.Case]

    init() throws {
        tok = try Fixtures.smolLM2.get()
        cases = try Fixtures.cases("smollm2_encode.json")
    }

    @Test func metadata() throws {
        #expect(cases.count >= 300)
        #expect(tok.vocabSize == 49152)
        #expect(tok.preTokenizerName == "smollm")
        #expect(tok.bosID == 1)
        #expect(tok.eosID == 2)
        #expect(tok.padID == 2)
        #expect(tok.eogIDs == [0, 2])  // <|endoftext|>, <|im_end|>
        #expect(tok.id(of: "<|im_start|>") == 1)
        #expect(tok.spec.addBOS == false && tok.spec.addEOS == false)
    }

    @Test func everyFixtureStringEncodesLikeTheReference() throws {
        var mismatches: [String] = []
        for c in cases {
            let got = try tok.encode(c.text)
            if got != c.ids { mismatches.append("\(c.text.shortDebug): expected \(c.ids.prefix(12)), got \(got.prefix(12))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test func decodeInvertsEncode() throws {
        for c in cases {
            #expect(tok.decode(try tok.encode(c.text)) == c.text, "\(c.text.shortDebug)")
            #expect(tok.decode(try tok.encode(c.text, parseSpecial: false)) == c.text, "\(c.text.shortDebug)")
        }
    }

    @Test func specialTokensBothWays() throws {
        let withSpecials = cases.filter { $0.idsNoParseSpecial != nil }
        #expect(withSpecials.count >= 15)
        for c in withSpecials {
            #expect(try tok.encode(c.text, parseSpecial: false) == c.idsNoParseSpecial, "\(c.text.shortDebug)")
            #expect(tok.decode(c.ids, skipSpecial: true) == c.decodedSkipSpecial, "\(c.text.shortDebug)")
        }
        #expect(try tok.encode("<|im_end|>") == [2])
        #expect(try tok.encode("<|im_end|>", parseSpecial: false).count > 1)
        #expect(try tok.isSpecial(2) && !tok.isSpecial(tok.encode(" Paris")[0]))
    }

    @Test func addSpecialTokensFollowsTheFile() throws {
        // SmolLM2's GGUF sets add_bos_token = false and no add_eos_token.
        #expect(try tok.encode("Hello", addSpecialTokens: true) == tok.encode("Hello"))
    }

    @Test func knownIdsFromAnIndependentSource() throws {
        // SmolLM2 ids quoted in another public project's tests, independent of our fixture script.
        #expect(try tok.encode("Hello world! 123") == [19556, 905, 17, 216, 33, 34, 35])
        #expect(try tok.encode("Café déjà vu.") == [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30])
        #expect(try tok.encode("  multiple   spaces") == [216, 2701, 256, 5600])
    }

    @Test func tokenStringsForReports() throws {
        let paris = try tok.encode(" Paris")
        #expect(paris.count == 1)
        #expect(tok.tokenString(paris[0]) == " Paris")
        #expect(tok.rawToken(paris[0]) == "ĠParis")
        #expect(tok.id(of: "ĠParis") == paris[0])
        #expect(tok.id(of: " Paris") == paris[0])
        #expect(tok.tokenString(try tok.encode("\n")[0]) == "\\n")
        #expect(tok.tokenString(2) == "<|im_end|>")
        #expect(tok.tokenString(-1) == "<bad id -1>")
        // A token that is part of a multi-byte character shows its bytes.
        let emoji = try tok.encode("😀")
        if emoji.count > 1 { #expect(tok.tokenString(emoji[0]).hasPrefix("<0xF0>")) }
    }

    @Test func streamingDecodeMatchesDecode() throws {
        for c in cases {
            var stream = tok.streamingDecoder()
            var text = ""
            for id in c.ids {
                let piece = stream.push(id)
                #expect(!piece.contains("\u{FFFD}") || c.text.contains("\u{FFFD}"), "\(c.text.shortDebug)")
                text += piece
            }
            text += stream.finish()
            #expect(text == c.text, "\(c.text.shortDebug)")
        }
    }

    @Test func chatTemplateWithDefaultSystemMessage() throws {
        let system = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        #expect(tok.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let prompt = try tok.applyChatTemplate(messages: [ChatMessage(role: "user", content: "Hi!")],
                                               addGenerationPrompt: true)
        #expect(prompt == system + "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n")
        let own = try tok.applyChatTemplate(messages: [ChatMessage(role: "system", content: "Be terse."),
                                                       ChatMessage(role: "user", content: "Hi")],
                                            addGenerationPrompt: false)
        #expect(own == "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        let ids = try tok.encode(prompt)
        #expect(ids.first == 1 && ids.last == 198)  // <|im_start|> ... "\n"
        #expect(ids.filter { $0 == 2 }.count == 2)
    }
}
