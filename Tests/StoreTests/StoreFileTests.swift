import Foundation
import GRDB
import LoupeTestSupport
import Models
import Store
import Testing

@Suite struct StoreFileTests {
    @Test func createsReopensAndChecksIntegrity() throws {
        let path = try temporaryStorePath()
        #expect(errorText { _ = try ActivationStore(path: path) } == "\(path): no store file")
        do {
            let store = try ActivationStore(path: path, create: true)
            #expect(try store.integrityCheck() == ["ok"])
            #expect(try store.captures().isEmpty)
        }
        let again = try ActivationStore(path: path)
        #expect(try again.integrityCheck() == ["ok"])
    }

    @Test func refusesFilesThatAreNotStores() throws {
        let junk = try temporaryFile("junk.db", String(repeating: "not a database at all. ", count: 400))
        let message = errorText { _ = try ActivationStore(path: junk) }
        #expect(message.hasPrefix("\(junk): not a Loupe activation store ("), "\(message)")
        #expect(message.contains("not a database"), "\(message)")

        let dir = FileManager.default.temporaryDirectory.path
        #expect(errorText { _ = try ActivationStore(path: dir) } == "\(dir): not a Loupe activation store (a folder)")
    }

    @Test func refusesAnotherApplicationsDatabaseAndNewerSchemas() throws {
        // Build an SQLite file that another program owns, through the store's own connection type.
        let other = try temporaryStorePath()
        try SQLiteScript.run(other, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        #expect(errorText { _ = try ActivationStore(path: other) }.contains("an SQLite database of another application"))

        let newer = try temporaryStorePath()
        _ = try ActivationStore(path: newer, create: true)
        try SQLiteScript.run(newer, "PRAGMA user_version = 99;")
        #expect(errorText { _ = try ActivationStore(path: newer) } == "\(newer): store schema version 99 is newer than this build's 3; update Loupe")
    }

    @Test func aVersionTwoStoreIsReadAsItIsAndGainsTheShardTableWhenWritten() throws {
        let old = try temporaryStorePath()
        _ = try ActivationStore(path: old, create: true)
        try SQLiteScript.run(old, "DROP TABLE capture_shard; PRAGMA user_version = 2;")
        #expect(try DatabaseQueue(path: old).read { try $0.tableExists("capture_shard") } == false)
        #expect(try ActivationStore(path: old).shardPlan(capture: 1) == nil, "a reader needs no capture_shard table")
        _ = try ActivationStore(path: old, writable: true)
        let (exists, version) = try DatabaseQueue(path: old).read { db in
            (try db.tableExists("capture_shard"), try Int.fetchOne(db, sql: "PRAGMA user_version"))
        }
        #expect(exists && version == 3)
    }

    @Test func refusesAnotherModelOrTokenizerUnlessAllowed() throws {
        let config = TinyModels.llamaConfig()
        let store = try ActivationStore(path: try temporaryStorePath(), create: true)
        let first = try store.register(tinyIdentity(config))
        #expect(try store.register(tinyIdentity(config)) == first)
        let otherModel = errorText { _ = try store.register(tinyIdentity(config, file: "00000000000000cc")) }
        #expect(otherModel.contains("made with model tiny-llama (<memory>) (hash 00000000000000aa), not tiny-llama (<memory>) (hash 00000000000000cc)"))
        #expect(otherModel.contains("--allow-model-mismatch"))
        let otherTokenizer = errorText { _ = try store.register(tinyIdentity(config, tokenizer: "00000000000000dd")) }
        #expect(otherTokenizer.contains("made with another tokenizer (hash 00000000000000bb, given 00000000000000dd)"))
        let second = try store.register(tinyIdentity(config, file: "00000000000000cc"), allowMismatch: true)
        #expect(second != first)
        #expect(try store.models().count == 2)
    }

    @Test func awkwardPromptTextRoundTripsExactly() throws {
        let store = try ActivationStore(path: try temporaryStorePath(), create: true)
        let texts = ["Robert'); DROP TABLE prompt; --", "a \"quoted\" 'string'; SELECT * FROM activation;",
                     "nul\u{0}inside\u{0}", "\u{0}", "emoji 🔬 and ünïcödé", "back\\slash % _ ? :name @x $1",
                     "line\nbreak\r\ttab", "'; PRAGMA user_version = 7; --"]
        let prompts = texts.enumerated().map { (record: PromptRecord(text: $1, metadata: ["note": .string($1)], line: $0 + 1),
                                                 tokens: [$0, 1, 2]) }
        let data = try store.dataset(name: "x'); DROP TABLE dataset; --", source: "s;'\"", encoding: "{}", tokenizerHash: "t",
                                     prompts: prompts)
        let back = try store.prompts(dataset: data.id)
        #expect(back.map(\.text) == texts)
        #expect(back.map { $0.metadata["note"] } == texts.map { .string($0) })
        #expect(back.map(\.tokens) == texts.indices.map { [$0, 1, 2] })
        #expect(try store.integrityCheck() == ["ok"])
        // The same prompts again are the same dataset.
        #expect(try store.dataset(name: "again", source: "s", encoding: "{}", tokenizerHash: "t", prompts: prompts).id == data.id)
    }
}
