import Foundation
import GRDB

/// An SQLite file of captured activations (see ``Schema`` for the tables).
///
/// The file is in WAL mode: readers (analyses, `loupe store`) read a consistent snapshot
/// while a capture writes, and each batch of prompts commits in one transaction, so a
/// process killed at any moment leaves every committed prompt whole and nothing of the rest.
/// A store opened for reading (the default) is opened read-only and never migrated: it
/// writes nothing, and when no writer's `-wal` file is present it is read as an immutable
/// file, so no `-wal`/`-shm` files appear and a read-only file or folder works.
/// Not `Sendable` by design: use one store per thread (open the file again elsewhere).
public final class ActivationStore {
    /// The file, as given.
    public let path: String
    /// Whether the store was opened for writing (with `create` or `writable`).
    public let isWritable: Bool
    let pool: any DatabaseWriter

    /// Opens the store at `path`: for reading unless `create` or `writable` is true. Creating
    /// makes the file when it does not exist; writing brings an older schema up to date.
    /// Without `create`, an empty file or an empty SQLite database is refused rather than made
    /// into a store. A store opened for reading refuses writes with ``StoreError/sqlite(path:message:)``.
    /// - Throws: ``StoreError/notFound(path:what:)`` when absent and not creating,
    ///   ``StoreError/notAStore(path:reason:)`` for a file that is not a Loupe store,
    ///   ``StoreError/schemaTooNew(path:found:supported:)``.
    public init(path: String, create: Bool = false, writable: Bool = false) throws {
        self.path = path
        isWritable = create || writable
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { throw StoreError.notAStore(path: path, reason: "a folder") }
        if !exists && !create { throw StoreError.notFound(path: path, what: "store file") }
        // Opening an empty file would write a store into it: a read must never do that.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if exists && !create && size == 0 {
            throw StoreError.notAStore(path: path, reason: "an empty file; `loupe capture` makes stores")
        }
        do {
            if isWritable {
                pool = try Self.openForWriting(path, create: create)
            } else {
                pool = try Self.openForReading(path)
                try pool.read { try Schema.requireReadable($0, path: path) }
            }
        } catch let error as DatabaseError {
            throw StoreError.notAStore(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// A WAL-mode pool, with the schema brought up to date. Several processes opening one new
    /// store at once take turns: switching a file to WAL mode fails with "database is locked"
    /// (without waiting) while another connection holds it, so that is retried for up to 30 s.
    private static func openForWriting(_ path: String, create: Bool) throws -> DatabasePool {
        var attempts = 0
        while true {
            do {
                return try openPool(path, create: create)
            } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) && attempts < 600 {
                attempts += 1
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    private static func openPool(_ path: String, create: Bool) throws -> DatabasePool {
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
        let pool = try DatabasePool(path: path, configuration: config)
        let current = try pool.read { db in
            try (Int32.fetchOne(db, sql: "PRAGMA application_id"), Int.fetchOne(db, sql: "PRAGMA user_version"))
        }
        if current.0 != Schema.applicationID || current.1 != Schema.version {
            try pool.writeWithoutTransaction { try Schema.migrate($0, path: path, create: create) }
        }
        return pool
    }

    /// A read-only connection. A writer (live, or killed) leaves a `-wal` file: then the store
    /// is read through it like any WAL reader (SQLite may add the `-shm` beside it). Without
    /// one, every committed page is in the main file, which is opened `immutable`: no locks,
    /// no `-wal` or `-shm` files, nothing written, and a read-only file or folder is fine.
    private static func openForReading(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 17179869184") }
        let live = FileManager.default.fileExists(atPath: path + "-wal")
        return try DatabaseQueue(path: uri(path, query: live ? "mode=ro" : "mode=ro&immutable=1"), configuration: config)
    }

    /// An SQLite URI for `path` (made absolute, with `?`, `#` and `%` escaped).
    static func uri(_ path: String, query: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let absolute = URL(fileURLWithPath: path).path
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?" + query
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
