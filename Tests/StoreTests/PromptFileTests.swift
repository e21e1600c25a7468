import Foundation
import Store
import Testing

/// Writes `content` to a fresh temporary file named `name` and returns its path.
func temporaryFile(_ name: String, _ content: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-store-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try content.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// The error `body` throws, as its one-line description (or a note that it did not throw).
func errorText(_ body: () throws -> Void) -> String {
    do { try body(); return "(no error)" } catch { return "\(error)" }
}

@Suite struct PromptFileTests {
    @Test func readsTextJSONLAndTSV() throws {
        let txt = try PromptFile.read(try temporaryFile("p.txt", "first prompt\n\nsecond; 'quoted'\r\n"))
        #expect(txt.map(\.text) == ["first prompt", "second; 'quoted'"])
        #expect(txt.map(\.line) == [1, 3])
        // Whitespace-only lines are blank; a line starting with # is a prompt like any other.
        let hashes = try PromptFile.read(try temporaryFile("h.txt", "a\n  \t \n# not a comment\n"))
        #expect(hashes.map(\.text) == ["a", "# not a comment"])

        let jsonl = try PromptFile.read(try temporaryFile("p.jsonl", """
            {"text": "The Eiffel Tower is in", "subject": "Eiffel Tower", "label": 1}

            {"text": "nul\\u0000 and \\"quotes\\"", "label": 0, "tags": ["a"]}
            """))
        #expect(jsonl.count == 2)
        #expect(jsonl[0].subject == "Eiffel Tower")
        #expect(jsonl[0].metadata["label"] == .number(1))
        #expect(jsonl[1].text == "nul\u{0} and \"quotes\"")
        #expect(jsonl[1].line == 3)
        #expect(jsonl[1].metadata["tags"] == .array([.string("a")]))

        let tsv = try PromptFile.read(try temporaryFile("p.tsv", "label\ttext\n1\tgood movie\n0\tbad movie\n"))
        #expect(tsv.map(\.text) == ["good movie", "bad movie"])
        #expect(tsv[1].metadata == ["label": .string("0")])
        #expect(tsv[1].line == 3)
    }

    @Test func badFilesNameTheFileAndLine() throws {
        let empty = try temporaryFile("empty.txt", "\n\n")
        #expect(errorText { _ = try PromptFile.read(empty) } == "\(empty): no prompts in the file")
        let bad = try temporaryFile("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n")
        #expect(errorText { _ = try PromptFile.read(bad) } == "\(bad):2: not a JSON object")
        let noText = try temporaryFile("notext.jsonl", "{\"prompt\": \"x\"}\n")
        #expect(errorText { _ = try PromptFile.read(noText) } == "\(noText):1: no string field \"text\"")
        let ragged = try temporaryFile("ragged.tsv", "text\tlabel\na\t1\nb\n")
        #expect(errorText { _ = try PromptFile.read(ragged) } == "\(ragged):3: 1 columns, the header has 2")
        let noColumn = try temporaryFile("nocol.tsv", "sentence\tlabel\na\t1\n")
        #expect(errorText { _ = try PromptFile.read(noColumn) }.contains(":1: the header row has no \"text\" column"))
        let kind = try temporaryFile("p.csv", "a\n")
        #expect(errorText { _ = try PromptFile.read(kind) }.contains("use .txt, .jsonl or .tsv"))
        #expect(errorText { _ = try PromptFile.read("/nonexistent/p.txt") } == "/nonexistent/p.txt: cannot read the file")
        // Bad UTF-8 names its line.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-utf8-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let latin1 = dir.appendingPathComponent("latin1.txt")
        try Data("one\ntwo\ncaf".utf8 + [0xE9] + Data(" au lait\nfour\n".utf8)).write(to: latin1)
        #expect(errorText { _ = try PromptFile.read(latin1.path) } == "\(latin1.path):3: not UTF-8 text")
    }
}
