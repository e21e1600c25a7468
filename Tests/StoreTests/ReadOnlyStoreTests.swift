import Foundation
import LoupeTestSupport
import Models
import Store
import Testing

/// A store opened for reading writes nothing: no `-wal`/`-shm` files appear beside it, its
/// bytes stay the same, writes are refused, and it reads from a read-only file and folder.
/// (CI runs as root, which ignores permissions, so the checks are on files and bytes.)
@Suite struct ReadOnlyStoreTests {
    static let hook = "blocks.1.hook_resid_post"

    /// A captured store, its writer closed (which folds the WAL into the file and removes it).
    func closedStore() throws -> (path: String, prompts: [StoredPrompt], capture: CaptureRecord) {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 6)
        try Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4).run(prompts: t.prompts, positions: t.kept)
        return (t.store.path, t.prompts, t.capture)
    }

    func sideFiles(_ path: String) -> [String] {
        ["-wal", "-shm", "-journal"].filter { FileManager.default.fileExists(atPath: path + $0) }
    }

    @Test func readingCreatesNoFilesAndChangesNoBytes() throws {
        let (path, prompts, capture) = try closedStore()
        #expect(sideFiles(path).isEmpty)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let folder = (path as NSString).deletingLastPathComponent
        let fm = FileManager.default
        try fm.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        try fm.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
        defer {
            try? fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
            try? fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        }
        do {
            let store = try ActivationStore(path: path)
            #expect(!store.isWritable)
            #expect(try store.captures().count == 1)
            for p in prompts {
                #expect(try store.activation(capture: capture, hook: Self.hook, prompt: p.id) != nil)
            }
            #expect(try store.verify().isEmpty)
            #expect(try store.integrityCheck() == ["ok"])
            // While it is open, nothing beside it: the old read-write open made `-wal` and `-shm`.
            #expect(sideFiles(path).isEmpty)
            let write = try? store.capture(model: capture.modelID, dataset: capture.datasetID, hooks: ["hook_embed"],
                                           positions: "all", dtype: .f32)
            #expect(write == nil)
            #expect(throws: StoreError.self) { _ = try store.vacuum() }
        }
        #expect(sideFiles(path).isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    /// With a writer's `-wal` present (here: a writer still open), a reader reads through it:
    /// it sees the committed prompts that are only in the WAL.
    @Test func aReaderSeesWhatALiveWriterCommitted() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 6)
        try Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4).run(prompts: t.prompts, positions: t.kept)
        #expect(FileManager.default.fileExists(atPath: t.store.path + "-wal"))
        let reader = try ActivationStore(path: t.store.path)
        #expect(try reader.completedPrompts(capture: t.capture.id).count == 6)
        #expect(try reader.verify().isEmpty)
    }

    @Test func writingNeedsToBeAsked() throws {
        let (path, _, capture) = try closedStore()
        let writer = try ActivationStore(path: path, writable: true)
        #expect(writer.isWritable)
        #expect(try writer.capture(model: capture.modelID, dataset: capture.datasetID, hooks: ["hook_embed"],
                                   positions: "all", dtype: .f32).id != capture.id)
    }
}
