import Foundation

/// A compiled ICU regular expression used as one pre-tokenizer split step.
///
/// Patterns are written in the Oniguruma / llama.cpp dialect found in tokenizer.json files
/// and llama-vocab.cpp. The one difference that matters for them is `\s`: Oniguruma (and
/// Rust's `char::is_whitespace`) count U+000B and U+0085 as white space, ICU does not
/// (ICU's `\s` is `[\t\n\f\r\p{Z}]`). ``translate(_:)`` rewrites `\s` / `\S` so that
/// ICU matches the same set.
final class RegexPattern: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe for matching.
    /// The pattern as given (Oniguruma dialect).
    let source: String
    let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        do {
            regex = try NSRegularExpression(pattern: Self.translate(source), options: [])
        } catch {
            throw TokenizerError.badPattern(pattern: source, detail: "\(error)")
        }
    }

    private static let spaceClassBody = #"\s\x{0B}\x{85}"#

    /// Rewrites `\s` and `\S` to Unicode White_Space (adds U+000B and U+0085), inside and
    /// outside character classes. Other escapes pass through unchanged.
    static func translate(_ pattern: String) -> String {
        var out = ""
        var inClass = false
        var chars = pattern.makeIterator()
        while let c = chars.next() {
            if c == "\\" {
                guard let e = chars.next() else { out.append(c); break }
                switch (e, inClass) {
                case ("s", false): out += "[\(spaceClassBody)]"
                case ("s", true): out += spaceClassBody
                case ("S", false): out += "[^\(spaceClassBody)]"
                default: out.append(c); out.append(e)
                }
                continue
            }
            if c == "[" && !inClass { inClass = true } else if c == "]" && inClass { inClass = false }
            out.append(c)
        }
        return out
    }
}
