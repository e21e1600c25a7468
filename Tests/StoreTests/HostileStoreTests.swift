import Foundation
import Linalg
import LoupeTestSupport
import Models
import Store
import Testing

/// Stores edited by hand (or by an attacker) with `sqlite3`: every read names the store, the
/// row and the column that is wrong, where it used to trap in GRDB's typed row access, overflow
/// in shape arithmetic, or silently return fewer rows than the capture records.
@Suite struct HostileStoreTests {
    static let hook = "blocks.1.hook_resid_post"

    /// A fully written tiny capture of one hook, closed so raw SQL can edit it; returns its path.
    func written(count: Int = 6) throws -> String {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, dtype: .f32, count: count)
        try Capturer(model: t.model, store: t.store, capture: t.capture).run(prompts: t.prompts, positions: t.kept)
        return t.store.path
    }

    /// The error of every read path a command takes: listing, the capture record, streaming.
    func readErrors(_ path: String) -> (list: String, stream: String) {
        let list = errorText { _ = try ActivationStore(path: path).captures() }
        let stream = errorText {
            let store = try ActivationStore(path: path)
            _ = try ActivationReader(store: store, capture: try store.capture(id: 1), hook: Self.hook)
        }
        return (list, stream)
    }

    @Test func valuesOfTheWrongKindAreNamedErrors() throws {
        let badHooks = try written()
        try SQLiteScript.run(badHooks, "UPDATE capture SET hooks = x'fffe5b5d'")
        let hooks = readErrors(badHooks)
        #expect(hooks.list == "\(badHooks): capture 1: column hooks holds a 4-byte blob that is not UTF-8 where UTF-8 text belongs")
        #expect(hooks.stream.contains("capture 1: column hooks holds a 4-byte blob that is not UTF-8"), "\(hooks.stream)")

        let notJSON = try written()
        try SQLiteScript.run(notJSON, "UPDATE capture SET hooks = 'resid, mlp'")
        #expect(readErrors(notJSON).list == "\(notJSON): capture 1: column hooks 'resid, mlp' is not JSON of a list of strings")

        let badName = try written()
        try SQLiteScript.run(badName, "UPDATE model SET name = x'c328'")
        #expect(readErrors(badName).list.contains("capture 1: column model holds a 2-byte blob that is not UTF-8"))

        let textCount = try written()
        try SQLiteScript.run(textCount, "UPDATE dataset SET prompt_count = 'many'")
        #expect(readErrors(textCount).list.contains("capture 1: column prompt_count holds the text 'many' where an integer belongs"))

        let badMetadata = try written()
        try SQLiteScript.run(badMetadata, "UPDATE prompt SET metadata = '{\"label\": ' WHERE idx = 2")
        let metadata = readErrors(badMetadata).stream
        #expect(metadata.contains("hook \(Self.hook) prompt 2 (line 3): column metadata '{\"label\": ' is not JSON of an object"), "\(metadata)")
    }

    @Test func shapesAndPositionsAreCheckedAgainstTheBlob() throws {
        let huge = try written()
        try SQLiteScript.run(huge, "UPDATE activation SET shape = '[1, 4611686018427387904, 4]' WHERE prompt_id = 1")
        #expect(readErrors(huge).stream.contains("shape '[1, 4611686018427387904, 4]' is not a list of sizes whose product fits in 64 bits"))
        let single = errorText {
            let store = try ActivationStore(path: huge)
            _ = try store.activation(capture: try store.capture(id: 1), hook: Self.hook, prompt: 1)
        }
        #expect(single.contains("capture 1 hook \(Self.hook) prompt 1: shape"), "\(single)")

        // A shape that claims a wider row than the blob holds: refused before any window is allocated.
        let wide = try written()
        try SQLiteScript.run(wide, "UPDATE activation SET shape = json_array(json_extract(shape, '$[0]'), 1099511627776) WHERE prompt_id = 2")
        #expect(readErrors(wide).stream.contains("column data holds"), "\(readErrors(wide).stream)")

        let negative = try written()
        try SQLiteScript.run(negative, """
            UPDATE capture_prompt SET positions = x'ffffffff' WHERE prompt_id = 1;
            UPDATE activation SET data = substr(data, 1, length(data) / json_extract(shape, '$[0]')),
                                  shape = json_array(1, json_extract(shape, '$[1]')) WHERE prompt_id = 1
            """)
        #expect(readErrors(negative).stream.contains("column positions holds position -1, outside the prompt's"))

        let ragged = try written()
        try SQLiteScript.run(ragged, "UPDATE prompt SET tokens = substr(tokens, 1, length(tokens) - 1) WHERE idx = 0")
        #expect(readErrors(ragged).stream.contains("column tokens"), "\(readErrors(ragged).stream)")
    }

    @Test func aMissingActivationRowFailsTheReadAndVerifyNamesIt() throws {
        let path = try written()
        let full = try ActivationStore(path: path)
        #expect(try full.verify().isEmpty)
        try SQLiteScript.run(path, "DELETE FROM activation WHERE prompt_id = (SELECT id FROM prompt WHERE idx = 3)")
        let store = try ActivationStore(path: path)
        // The listing still counts the prompt (it is recorded whole), so a silent read would lose rows.
        #expect(try store.captures()[0].promptsDone == 6)
        let stream = readErrors(path).stream
        #expect(stream == "\(path): capture 1 hook \(Self.hook) prompt 3 (line 4): the capture records this prompt but its activation row is missing; `loupe store verify` lists every such gap")
        #expect(try store.verify() == ["capture 1: prompt 3 has 0 of 1 hooks"])
    }

    @Test func verifyListsUndecodableValuesInsteadOfTrapping() throws {
        let path = try written()
        try SQLiteScript.run(path, "UPDATE activation SET dtype = 'f64' WHERE prompt_id = 1; UPDATE capture SET hooks = x'ff'")
        let problems = try ActivationStore(path: path).verify()
        #expect(problems.contains("\(path): capture 1: column hooks holds a 1-byte blob that is not UTF-8 where UTF-8 text belongs"), "\(problems)")
        #expect(problems.contains { $0.contains("column dtype names no activation type: 'f64'") }, "\(problems)")
    }

    @Test func readingAnEmptyFileLeavesItEmpty() throws {
        let empty = try temporaryFile("empty.db", "")
        #expect(errorText { _ = try ActivationStore(path: empty) } == "\(empty): not a Loupe activation store (an empty file; `loupe capture` makes stores)")
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)
        #expect(!FileManager.default.fileExists(atPath: empty + "-wal"))
        // Creating is still allowed where asked for.
        #expect(try ActivationStore(path: empty, create: true).captures().isEmpty)
    }
}
