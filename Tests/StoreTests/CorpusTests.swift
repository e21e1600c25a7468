import Foundation
import LoupeTestSupport
import Models
import Store
import Testing

@Suite struct CorpusWindowsTests {
    @Test func windowsAreConsecutiveFullChunksByDefault() throws {
        let w = try CorpusWindows(context: 4, maxContext: 100)
        #expect(w.ranges(documentLength: 10) == [0..<4, 4..<8])
        #expect(w.ranges(documentLength: 8) == [0..<4, 4..<8])
        #expect(w.ranges(documentLength: 3) == [])
        #expect(w.ranges(documentLength: 0) == [])
        #expect(try CorpusWindows(context: 4, maxContext: 100, minWindow: 2).ranges(documentLength: 10) == [0..<4, 4..<8, 8..<10])
        #expect(try CorpusWindows(context: 4, maxContext: 100, minWindow: 3).ranges(documentLength: 10) == [0..<4, 4..<8])
        #expect(try CorpusWindows(context: 4, maxContext: 100, minWindow: 1).ranges(documentLength: 3) == [0..<3])
    }

    @Test func windowsCarryTheirDocumentAndConcatenateToIt() throws {
        let docs = [PromptRecord(text: "a", metadata: ["source": .string("s1")], line: 1),
                    PromptRecord(text: "b", metadata: ["source": .string("s2"), "label": .number(1)], line: 5),
                    PromptRecord(text: "c", line: 9)]
        let tokens = [Array(100..<111), Array(200..<203), Array(300..<308)]
        let w = try CorpusWindows(context: 4, maxContext: 100)
        let out = w.windows(documents: docs, tokens: tokens) { $0.map(String.init).joined(separator: " ") }
        #expect(out.map(\.tokens) == [[100, 101, 102, 103], [104, 105, 106, 107], [300, 301, 302, 303], [304, 305, 306, 307]])
        #expect(out.allSatisfy { $0.tokens.count == 4 })
        #expect(out.map { $0.record.metadata["document"] } == [.number(0), .number(0), .number(2), .number(2)])
        #expect(out.map { $0.record.metadata["window"] } == [.number(0), .number(1), .number(0), .number(1)])
        #expect(out[0].record.metadata["source"] == .string("s1") && out[2].record.metadata["source"] == nil)
        #expect(out.map(\.record.line) == [1, 1, 9, 9])
        #expect(out[1].record.text == "104 105 106 107")
        // Every document's windows, concatenated, are its tokens up to the dropped tail.
        for d in 0..<3 {
            let joined = out.filter { $0.record.metadata["document"] == .number(Double(d)) }.flatMap(\.tokens)
            #expect(joined == Array(tokens[d].prefix(tokens[d].count / 4 * 4)))
        }
    }

    @Test func bosStartsEveryWindowAndEOSEndsEveryDocument() throws {
        let w = try CorpusWindows(context: 4, maxContext: 100, minWindow: 1, bos: 1, eos: 2)
        #expect(w.chunk == 3)
        let out = w.windows(documents: [PromptRecord(text: "x", line: 1)], tokens: [[10, 11, 12, 13, 14]]) { _ in "" }
        #expect(out.map(\.tokens) == [[1, 10, 11, 12], [1, 13, 14, 2]])
        let last = try CorpusWindows(context: 4, maxContext: 100, minWindow: 1, bos: 1, eos: 2)
            .windows(documents: [PromptRecord(text: "x", line: 1)], tokens: [[10, 11, 12]]) { _ in "" }
        #expect(last.map(\.tokens) == [[1, 10, 11, 12], [1, 2]])
    }

    @Test func badSettingsAreClearErrors() {
        #expect(errorText { _ = try CorpusWindows(context: 0, maxContext: 100) } == "the window length must be at least 1, not 0")
        #expect(errorText { _ = try CorpusWindows(context: 1, maxContext: 100, bos: 1) }
            == "the window length must be at least 2 (each window starts with BOS), not 1")
        #expect(errorText { _ = try CorpusWindows(context: 101, maxContext: 100) }
            == "the window length 101 is longer than the model's context of 100 tokens")
        #expect(errorText { _ = try CorpusWindows(context: 8, maxContext: 100, minWindow: 0) }
            == "the shortest window must be between 1 and 8 (the document tokens of a window), not 0")
        #expect(errorText { _ = try CorpusWindows(context: 8, maxContext: 100, minWindow: 8, bos: 1) }
            == "the shortest window must be between 1 and 7 (the document tokens of a window), not 8")
    }
}

@Suite struct CorpusFileTests {
    func write(_ text: String, _ ext: String) throws -> String {
        let path = try temporaryStorePath() + "." + ext
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func jsonlDocumentsKeepTheirFields() throws {
        let path = try write("""
            {"text": "First document.\\nSecond line.", "source": "fortunes:art"}

            {"text": "Another one.", "source": "wordnet:noun.act", "label": 3}
            {"text": "   "}
            """, "jsonl")
        let docs = try CorpusFile.read(path)
        #expect(docs.map(\.text) == ["First document.\nSecond line.", "Another one."])
        #expect(docs.map(\.line) == [1, 3])
        #expect(docs[1].metadata == ["source": .string("wordnet:noun.act"), "label": .number(3)])
    }

    @Test func txtDocumentsAreSeparatedByBlankLines() throws {
        let path = try write("\n\nOne paragraph\nstill one.\r\n\r\nTwo.\n  \t\n\n\nThree\nlines\nhere.\n", "txt")
        let docs = try CorpusFile.read(path)
        #expect(docs.map(\.text) == ["One paragraph\nstill one.", "Two.", "Three\nlines\nhere."])
        #expect(docs.map(\.line) == [3, 6, 10])
        #expect(docs.allSatisfy { $0.metadata.isEmpty })
    }

    @Test func badCorporaAreClearErrors() throws {
        let empty = try write("\n  \n", "txt")
        #expect(errorText { _ = try CorpusFile.read(empty) } == "\(empty): no documents in the corpus")
        let blankJSON = try write("{\"text\": \"\"}\n", "jsonl")
        #expect(errorText { _ = try CorpusFile.read(blankJSON) } == "\(blankJSON): no documents in the corpus")
        let bad = try write("{\"text\": \"ok\"}\n[1, 2]\n", "jsonl")
        #expect(errorText { _ = try CorpusFile.read(bad) } == "\(bad):2: not a JSON object")
        let noText = try write("{\"body\": \"ok\"}\n", "jsonl")
        #expect(errorText { _ = try CorpusFile.read(noText) } == "\(noText):1: no string field \"text\"")
        let csv = try write("a,b\n", "csv")
        #expect(errorText { _ = try CorpusFile.read(csv) }.hasPrefix("\(csv): unknown corpus file kind; use .jsonl"))
        #expect(errorText { _ = try CorpusFile.read("/nonexistent/c.jsonl") } == "/nonexistent/c.jsonl: cannot read the file")
    }
}

@Suite struct CaptureLimitTests {
    /// Activation bits of every (prompt, hook) the capture holds.
    func bits(_ t: TinyCapture) throws -> [[UInt32]] {
        try t.prompts.compactMap { p in
            try t.store.activation(capture: t.capture, hook: "blocks.1.hook_resid_post", prompt: p.id)?.tensor.scalars.map(\.bitPattern)
        }
    }

    @Test func maxTokensCapturesWholeLeadingBatchesAndAGrownCaptureEqualsOneRun() throws {
        let grown = try TinyCapture(hooks: [.residPost(1)], count: 20)
        let capturer = Capturer(model: grown.model, store: grown.store, capture: grown.capture, batchSize: 3)
        // Tiny prompts never reach --batch-tokens: batches are runs of 3 prompts.
        let firstTwo = 6
        let tokensOfFirst = grown.prompts.prefix(3).reduce(0) { $0 + $1.tokens.count }
        // A cap inside the second batch takes the first two batches whole.
        let a = try capturer.run(prompts: grown.prompts, positions: grown.kept, maxTokens: tokensOfFirst + 1)
        #expect(a.total == firstTwo && a.capturedPrompts == firstTwo && a.done == firstTwo)
        #expect(try grown.store.completedPrompts(capture: grown.capture.id) == Set(grown.prompts.prefix(firstTwo).map(\.id)))
        // A cap exactly at the end of the first batch: nothing more to do.
        let b = try capturer.run(prompts: grown.prompts, positions: grown.kept, maxTokens: tokensOfFirst)
        #expect(b.total == 3 && b.capturedPrompts == 0 && b.done == 3)
        let c = try capturer.run(prompts: grown.prompts, positions: grown.kept)
        #expect(c.capturedPrompts == 20 - firstTwo && c.done == 20 && c.total == 20)

        let once = try TinyCapture(hooks: [.residPost(1)], count: 20)
        try Capturer(model: once.model, store: once.store, capture: once.capture, batchSize: 3).run(prompts: once.prompts, positions: once.kept)
        let grownBits = try bits(grown), onceBits = try bits(once)
        #expect(grownBits.count == 20 && grownBits == onceBits)
    }
}
