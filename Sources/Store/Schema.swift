import GRDB

/// The store's tables, and the migrations that build them, keyed on `PRAGMA user_version`:
/// migration `i` takes a store from version `i` to `i + 1`. Append new migrations; never
/// edit one that has shipped.
///
/// ```
/// model           one row per model file that captured into the store (content hashes, config JSON)
/// dataset         one row per prompt set, keyed by a hash of its prompts and how they were tokenized
/// prompt          text (UTF-8 BLOB, so NULs survive), token ids (int32 LE BLOB), metadata JSON
/// capture         model x dataset x hooks x positions x dtype
/// capture_prompt  the prompts a capture holds, with the absolute positions kept (int32 LE BLOB);
///                 written in the same transaction as the prompt's activations, so a row here
///                 means the prompt is whole
/// activation      one row per capture x hook x prompt: shape JSON (rows first), dtype, LE BLOB
/// capture_claim   (version 2) prompts a capturing process has claimed and not yet committed:
///                 owner token, host, pid, lease end (Unix seconds); see ActivationStore+Claims
/// capture_shard   (version 3) for a store holding one shard of a capture: which shard of how
///                 many, and the batching that decides which prompts are that shard's
/// ```
enum Schema {
    /// `PRAGMA application_id` of Loupe stores ("LOUP").
    static let applicationID: Int32 = 0x4C4F_5550

    static let migrations: [String] = [
        """
        CREATE TABLE model (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            architecture TEXT NOT NULL,
            path TEXT NOT NULL,
            file_hash TEXT NOT NULL,
            file_size INTEGER NOT NULL,
            tokenizer_hash TEXT NOT NULL,
            config TEXT NOT NULL,
            created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            UNIQUE (file_hash, tokenizer_hash));
        CREATE TABLE dataset (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL UNIQUE,
            encoding TEXT NOT NULL,
            prompt_count INTEGER NOT NULL,
            token_count INTEGER NOT NULL,
            created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
        CREATE TABLE prompt (
            id INTEGER PRIMARY KEY,
            dataset_id INTEGER NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            line INTEGER NOT NULL,
            text BLOB NOT NULL,
            tokens BLOB NOT NULL,
            metadata TEXT NOT NULL,
            UNIQUE (dataset_id, idx));
        CREATE TABLE capture (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES model(id),
            dataset_id INTEGER NOT NULL REFERENCES dataset(id),
            hooks TEXT NOT NULL,
            positions TEXT NOT NULL,
            dtype TEXT NOT NULL,
            created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            UNIQUE (model_id, dataset_id, hooks, positions, dtype));
        CREATE TABLE capture_prompt (
            capture_id INTEGER NOT NULL REFERENCES capture(id) ON DELETE CASCADE,
            prompt_id INTEGER NOT NULL REFERENCES prompt(id),
            positions BLOB NOT NULL,
            PRIMARY KEY (capture_id, prompt_id)) WITHOUT ROWID;
        CREATE TABLE activation (
            id INTEGER PRIMARY KEY,
            capture_id INTEGER NOT NULL REFERENCES capture(id) ON DELETE CASCADE,
            hook TEXT NOT NULL,
            prompt_id INTEGER NOT NULL REFERENCES prompt(id),
            shape TEXT NOT NULL,
            dtype TEXT NOT NULL,
            data BLOB NOT NULL,
            UNIQUE (capture_id, hook, prompt_id));
        """,
        """
        CREATE TABLE capture_claim (
            capture_id INTEGER NOT NULL REFERENCES capture(id) ON DELETE CASCADE,
            prompt_id INTEGER NOT NULL REFERENCES prompt(id),
            token TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            expires REAL NOT NULL,
            PRIMARY KEY (capture_id, prompt_id)) WITHOUT ROWID;
        """,
        """
        CREATE TABLE capture_shard (
            capture_id INTEGER PRIMARY KEY REFERENCES capture(id) ON DELETE CASCADE,
            shard_index INTEGER NOT NULL,
            shard_count INTEGER NOT NULL,
            batch_size INTEGER NOT NULL,
            batch_tokens INTEGER NOT NULL,
            max_tokens INTEGER);
        """,
    ]

    /// The version this build writes.
    static var version: Int { migrations.count }

    /// The schema version of `db`: 0 for an empty database.
    /// - Throws: ``StoreError/notAStore(path:reason:)`` for another application's database,
    ///   ``StoreError/schemaTooNew(path:found:supported:)`` for a newer store.
    static func inspect(_ db: Database, path: String) throws -> Int {
        let app = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let found = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'table'") ?? 0
        if app != applicationID && (app != 0 || found != 0 || tables != 0) {
            throw StoreError.notAStore(path: path, reason: "an SQLite database of another application (application_id \(app))")
        }
        if found > version { throw StoreError.schemaTooNew(path: path, found: found, supported: version) }
        return found
    }

    /// Checks, without writing, that `db` is a Loupe store this build can read: any schema
    /// version from 1 up to ``version`` (readers use only tables every version has).
    static func requireReadable(_ db: Database, path: String) throws {
        if try inspect(db, path: path) == 0 {
            throw StoreError.notAStore(path: path, reason: "an empty SQLite database; `loupe capture` makes stores")
        }
    }

    /// Checks that `db` is a Loupe store (or empty) and brings its schema up to date.
    /// - Throws: ``StoreError/notAStore(path:reason:)`` for another application's database,
    ///   ``StoreError/schemaTooNew(path:found:supported:)`` for a newer store.
    /// The check and the migrations run in one IMMEDIATE transaction, so processes creating one
    /// store at once take turns and the later ones find it made.
    static func migrate(_ db: Database, path: String, create: Bool) throws {
        try db.inTransaction(.immediate) {
            let found = try inspect(db, path: path)
            if found == 0 && !create {
                throw StoreError.notAStore(path: path, reason: "an empty SQLite database; `loupe capture` makes stores")
            }
            guard found < version else { return .commit }
            for sql in migrations[found...] { try db.execute(sql: sql) }
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(version)")
            return .commit
        }
    }
}
