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
}
