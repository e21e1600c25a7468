import Foundation
import Models

/// Store-side JSON helpers on the shared ``JSONValue`` (defined in Models).
extension JSONValue {
    /// Compact, key-sorted JSON for `value`.
    static func encode<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// Metadata decoded from stored JSON (empty when absent or not an object).
    static func metadata(_ json: String) -> [String: JSONValue] {
        (try? JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8))) ?? [:]
    }
}
