import Foundation
import GRDB
import Models

extension ActivationStore {
    /// Checks the store's own invariants beyond SQLite's `integrity_check`: every value decodes
    /// (text is UTF-8, JSON parses, shapes are sizes), every prompt a capture holds has exactly
    /// one activation per hook of the capture with as many rows as positions kept, no
    /// activation belongs to a prompt the capture does not hold, and every blob's size matches
    /// its shape and dtype. Returns one line per problem (empty when the store is consistent).
    public func verify() throws -> [String] {
        var problems: [String] = []
        /// Runs one check; a value that does not decode is a problem, not a stop.
        func check(_ body: () throws -> Void) throws {
            do { try body() } catch let error as StoreError {
                if case .corruptRow = error { problems.append(error.description) } else { throw error }
            }
        }
        try check { _ = try captures() }
        try check { _ = try models() }
        try read { db in
            for c in try db.storedRows("SELECT id, hooks FROM capture", path: path, name: { "capture \($0["id"] as DatabaseValue)" }) {
                let id: Int64 = try c.value("id")
                var hooks: [String] = []
                try check { hooks = try c.json("hooks", as: [String].self) }
                let partial = try Row.fetchAll(db, sql: """
                    SELECT p.idx, count(a.id) AS n FROM capture_prompt cp JOIN prompt p ON p.id = cp.prompt_id
                    LEFT JOIN activation a ON a.capture_id = cp.capture_id AND a.prompt_id = cp.prompt_id
                    WHERE cp.capture_id = ? GROUP BY cp.prompt_id HAVING count(a.id) != ?
                    """, arguments: [id, hooks.count])
                for r in partial.prefix(5) {
                    problems.append("capture \(id): prompt \(r["idx"] as DatabaseValue) has \(r["n"] as DatabaseValue) of \(hooks.count) hooks")
                }
                if partial.count > 5 { problems.append("capture \(id): \(partial.count - 5) more prompts with missing hooks") }
                let orphans = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM activation a WHERE a.capture_id = ? AND NOT EXISTS
                    (SELECT 1 FROM capture_prompt cp WHERE cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id)
                    """, arguments: [id]) ?? 0
                if orphans > 0 { problems.append("capture \(id): \(orphans) activation rows of prompts it does not hold") }
                let foreign = try Int.fetchOne(db, sql: "SELECT count(*) FROM activation WHERE capture_id = ? AND hook NOT IN (SELECT value FROM json_each(?))",
                                               arguments: [id, JSONValue.encode(hooks)]) ?? 0
                if foreign > 0 { problems.append("capture \(id): \(foreign) activation rows of hooks it did not capture") }
            }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.id, a.capture_id, a.hook, a.shape, a.dtype, length(a.data) AS bytes, cp.positions, p.tokens
                FROM activation a JOIN prompt p ON p.id = a.prompt_id
                LEFT JOIN capture_prompt cp ON cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id
                """)
            while let row = try rows.next() {
                let r = StoredRow(row: row, path: path, name: "activation \(row["id"] as DatabaseValue) (capture \(row["capture_id"] as DatabaseValue), hook \(row["hook"] as DatabaseValue))")
                try check {
                    let shape = try decodeShape(r.text("shape"), row: r.name)
                    let dtype = try r.text("dtype")
                    guard let type = ActivationDType(rawValue: dtype) else { throw r.corrupt("dtype", "names no activation type: '\(dtype)'") }
                    let bytes = try r.int("bytes")
                    guard let count = StoredShape.count(shape), StoredShape.bytes(count, type.size) == bytes else {
                        throw r.corrupt("data", "holds \(bytes) bytes for shape \(shape) of \(dtype)")
                    }
                    if !(row["positions"] as DatabaseValue).isNull {
                        _ = try checkedPositions(r, rows: shape[0], tokens: try r.int32s("tokens").count)
                    }
                }
            }
        }
        return problems
    }
}
