/// Escaping for text placed in SVG and HTML (both written as well-formed XML).
public enum Markup {
    /// `text` with `&`, `<`, `>`, `"`, `'` replaced by entities, safe in element content and
    /// in quoted attributes.
    ///
    /// Characters that XML 1.0 forbids even as references (C0 controls other than tab, newline
    /// and carriage return, U+FFFE, U+FFFF) become their visible Control Pictures
    /// (U+2400 + code) or U+FFFD, so the output always parses.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 {
                    out.unicodeScalars.append(Unicode.Scalar(0x2400 + scalar.value)!)
                } else if scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
