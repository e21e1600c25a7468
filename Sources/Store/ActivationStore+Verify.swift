import Foundation
import GRDB

extension ActivationStore {
    /// Checks the store's own invariants beyond SQLite's `integrity_check`: every prompt a
    /// capture holds has exactly one activation per hook of the capture, no activation
    /// belongs to a prompt the capture does not hold, and every blob's size matches its
    /// shape and dtype. Returns one line per problem (empty when the store is consistent).
    public func verify() throws -> [String] {
        try read { db in
            var problems: [String] = []
            for c in try Row.fetchAll(db, sql: "SELECT id, hooks FROM capture") {
                let id: Int64 = c["id"]
                let hooks = (try? JSONDecoder().decode([String].self, from: Data((c["hooks"] as String).utf8))) ?? []
                let partial = try Row.fetchAll(db, sql: """
                    SELECT cp.prompt_id, count(a.id) AS n FROM capture_prompt cp
                    LEFT JOIN activation a ON a.capture_id = cp.capture_id AND a.prompt_id = cp.prompt_id
                    WHERE cp.capture_id = ? GROUP BY cp.prompt_id HAVING count(a.id) != ?
                    """, arguments: [id, hooks.count])
                for r in partial.prefix(5) {
                    problems.append("capture \(id): prompt \(r["prompt_id"] as Int64) has \(r["n"] as Int) of \(hooks.count) hooks")
                }
                let orphans = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM activation a WHERE a.capture_id = ? AND NOT EXISTS
                    (SELECT 1 FROM capture_prompt cp WHERE cp.capture_id = a.capture_id AND cp.prompt_id = a.prompt_id)
                    """, arguments: [id]) ?? 0
                if orphans > 0 { problems.append("capture \(id): \(orphans) activation rows of prompts it does not hold") }
                let foreign = try Int.fetchOne(db, sql: "SELECT count(*) FROM activation WHERE capture_id = ? AND hook NOT IN (SELECT value FROM json_each(?))",
                                               arguments: [id, c["hooks"] as String]) ?? 0
                if foreign > 0 { problems.append("capture \(id): \(foreign) activation rows of hooks it did not capture") }
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT id, shape, dtype, length(data) AS bytes FROM activation")
            while let r = try rows.next() {
                let shape = (try? JSONDecoder().decode([Int].self, from: Data((r["shape"] as String).utf8))) ?? [-1]
                let size = ActivationDType(rawValue: r["dtype"])?.size ?? 0
                if shape.reduce(1, *) * size != r["bytes"] as Int {
                    problems.append("activation \(r["id"] as Int64): \(r["bytes"] as Int) bytes for shape \(shape) of \(r["dtype"] as String)")
                }
            }
            return problems
        }
    }
}
