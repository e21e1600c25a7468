import Foundation
import GRDB

/// An SQLite file of captured activations (see ``Schema`` for the tables).
///
/// The file is in WAL mode: readers (analyses, `loupe store`) read a consistent snapshot
/// while a capture writes, and each batch of prompts commits in one transaction, so a
/// process killed at any moment leaves every committed prompt whole and nothing of the rest.
/// Not `Sendable` by design: use one store per thread (open the file again elsewhere).
public final class ActivationStore {
    /// The file, as given.
    public let path: String
    let pool: DatabasePool

    /// Opens the store at `path`, creating it when `create` is true and it does not exist,
    /// and brings an older schema up to date. Without `create`, an empty file or an empty
    /// SQLite database is refused rather than made into a store.
    /// - Throws: ``StoreError/notFound(path:what:)`` when absent and not creating,
    ///   ``StoreError/notAStore(path:reason:)`` for a file that is not a Loupe store,
    ///   ``StoreError/schemaTooNew(path:found:supported:)``.
    public init(path: String, create: Bool = false) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { throw StoreError.notAStore(path: path, reason: "a folder") }
        if !exists && !create { throw StoreError.notFound(path: path, what: "store file") }
        // Opening an empty file would write a store into it: a read must never do that.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if exists && !create && size == 0 {
            throw StoreError.notAStore(path: path, reason: "an empty file; `loupe capture` makes stores")
        }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            // NORMAL is durable against a killed process in WAL mode (not against power loss).
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Big pages keep a prompt's blob in few overflow pages (takes effect only on a new
            // file); memory-mapped reads skip a copy and a syscall per page when streaming.
            try db.execute(sql: "PRAGMA page_size = 65536")
            try db.execute(sql: "PRAGMA mmap_size = 17179869184")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            let current = try pool.read { db in
                try (Int32.fetchOne(db, sql: "PRAGMA application_id"), Int.fetchOne(db, sql: "PRAGMA user_version"))
            }
            if current.0 != Schema.applicationID || current.1 != Schema.version {
                try pool.writeWithoutTransaction { try Schema.migrate($0, path: path, create: create) }
            }
        } catch let error as DatabaseError {
            throw StoreError.notAStore(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// Runs `body` in a write transaction, turning SQLite errors into ``StoreError``.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try mapped { try pool.write(body) }
    }

    /// Runs `body` on a read snapshot, turning SQLite errors into ``StoreError``.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try mapped { try pool.read(body) }
    }

    func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw StoreError.notAStore(path: path, reason: error.message ?? "damaged")
            default:
                throw StoreError.sqlite(path: path, message: error.description)
            }
        }
    }

    /// Runs SQLite's `PRAGMA integrity_check`; returns `["ok"]` for a sound file.
    public func integrityCheck() throws -> [String] {
        try read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
    }

    /// Copies the WAL into the main file and rebuilds it compactly. Returns bytes before and after.
    public func vacuum() throws -> (before: Int64, after: Int64) {
        let before = fileBytes()
        try mapped {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        return (before, fileBytes())
    }

    /// Size of the file plus its WAL, in bytes.
    public func fileBytes() -> Int64 {
        [path, path + "-wal"].reduce(Int64(0)) {
            $0 + Int64((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0)
        }
    }
}
