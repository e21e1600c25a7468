import Foundation
import GRDB
import Models

/// One row read back from a store, every value checked as it is decoded.
///
/// A store is an untrusted file: anyone can edit it with `sqlite3`. GRDB's typed subscripts
/// (`row["hooks"] as String`) trap on a value of the wrong type, a NULL or a non-UTF-8 blob;
/// here each of those, JSON that does not parse, and integer blobs of a ragged length throw
/// ``StoreError/corruptRow(path:row:reason:)`` naming the store, the row and the column.
struct StoredRow {
    let row: Row
    /// The store's file.
    let path: String
    /// The row, as people know it: `capture 3`, `prompt 12 of dataset 1`.
    let name: String

    /// The value of `column` as `T`.
    func value<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard row.hasColumn(column) else { throw corrupt(column, "is missing") }
        let raw: DatabaseValue = row[column]
        guard let value = T.fromDatabaseValue(raw) else {
            throw corrupt(column, "holds \(Self.describe(raw)) where \(Self.expected(T.self)) belongs")
        }
        return value
    }

    /// The UTF-8 text of `column` (a BLOB must be valid UTF-8 too).
    func text(_ column: String) throws -> String { try value(column, as: String.self) }

    /// The integer in `column`.
    func int(_ column: String) throws -> Int { try value(column, as: Int.self) }

    /// The integer in `column`, or nil for NULL.
    func optionalInt(_ column: String) throws -> Int? {
        guard row.hasColumn(column) else { throw corrupt(column, "is missing") }
        return (row[column] as DatabaseValue).isNull ? nil : try int(column)
    }

    /// The integer in `column`, which must be at least `minimum`.
    func int(_ column: String, atLeast minimum: Int) throws -> Int {
        let v = try int(column)
        guard v >= minimum else { throw corrupt(column, "is \(v), below \(minimum)") }
        return v
    }

    /// `column` holds JSON text that decodes as `T`.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        let text = try text(column)
        do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
            throw corrupt(column, "'\(Self.clip(text))' is not JSON of \(Self.expected(T.self))")
        }
    }

    /// `column` holds little-endian int32 values back to back (token ids, positions).
    func int32s(_ column: String) throws -> [Int] {
        let data = try value(column, as: Data.self)
        guard data.count % 4 == 0 else { throw corrupt(column, "\(data.count) bytes is not a whole number of int32 values") }
        return IntBlob.decode(data)
    }

    /// The JSON object in `column` (prompt metadata).
    func metadata(_ column: String) throws -> [String: JSONValue] {
        try json(column, as: [String: JSONValue].self)
    }

    func corrupt(_ column: String, _ reason: String) -> StoreError {
        .corruptRow(path: path, row: name, reason: "column \(column) \(reason)")
    }

    static func describe(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let i): return "the integer \(i)"
        case .double(let d): return "the number \(d)"
        case .string(let s): return "the text '\(clip(s))'"
        case .blob(let b): return "a \(b.count)-byte blob\(String(data: b, encoding: .utf8) == nil ? " that is not UTF-8" : "")"
        }
    }

    static func expected<T>(_ type: T.Type) -> String {
        switch type {
        case is String.Type: return "UTF-8 text"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Data.Type: return "a blob"
        case is [Int].Type: return "a list of integers"
        case is [String].Type: return "a list of strings"
        case is [String: JSONValue].Type: return "an object"
        default: return "\(type)"
        }
    }

    static func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
}

extension Database {
    /// Rows of `sql`, each wrapped as a checked ``StoredRow`` named by `name`.
    func storedRows(_ sql: String, _ arguments: StatementArguments = [], path: String,
                    name: (Row) -> String) throws -> [StoredRow] {
        try Row.fetchAll(self, sql: sql, arguments: arguments).map { StoredRow(row: $0, path: path, name: name($0)) }
    }
}

/// Size arithmetic on stored shapes, checked for overflow whatever order the factors come in.
enum StoredShape {
    /// The element count of `shape`, or nil when a dimension is negative or the product overflows.
    static func count(_ shape: [Int]) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// `count * size` in bytes, or nil on overflow.
    static func bytes(_ count: Int, _ size: Int) -> Int? {
        let (p, overflow) = count.multipliedReportingOverflow(by: size)
        return overflow ? nil : p
    }
}
