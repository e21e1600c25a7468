/// How a token's text is shown in figures: every character visible, nothing that can
/// reorder or hide the surrounding layout.
public enum TokenLabel {
    /// A visible form of `token`, at most `maxLength` characters (cut with `…`).
    ///
    /// Space becomes `␣`, newline `↵`, tab `⇥`, carriage return `␍`, other C0 controls their
    /// Control Picture (`␀`…`␟`), DEL `␡`. C1 controls, bidirectional overrides and isolates,
    /// zero-width characters, BOM and line/paragraph separators become `⟨U+XXXX⟩`, so a token
    /// holding U+202E cannot flip the rest of a label. Zero-width joiners inside one emoji
    /// cluster stay, so `👩‍💻` shows as itself. The empty token shows as `∅`.
    /// The result is plain text: escape it with ``Markup/escape(_:)`` before writing markup.
    public static func display(_ token: String, maxLength: Int = 24) -> String {
        precondition(maxLength >= 2, "maxLength \(maxLength) < 2")
        if token.isEmpty { return "∅" }
        var out = ""
        for character in token {
            let joined = character.unicodeScalars.count > 1
            for scalar in character.unicodeScalars {
                out += visible(scalar, insideCluster: joined)
            }
        }
        guard out.count > maxLength else { return out }
        return String(out.prefix(maxLength - 1)) + "…"
    }

    private static func visible(_ scalar: Unicode.Scalar, insideCluster: Bool) -> String {
        let v = scalar.value
        switch v {
        case 0x20: return "␣"
        case 0x0A: return "↵"
        case 0x09: return "⇥"
        case 0x0D: return "␍"
        case 0x00..<0x20: return String(Unicode.Scalar(0x2400 + v)!)
        case 0x7F: return "␡"
        case 0x200D, 0xFE0E, 0xFE0F:
            // Joiners and variation selectors are part of emoji when they share a cluster.
            return insideCluster ? String(scalar) : codePoint(v)
        case 0x80...0x9F, 0x200B, 0x200C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E,
             0x2060, 0x2066...0x2069, 0xFEFF, 0xFFFE, 0xFFFF:
            return codePoint(v)
        default: return String(scalar)
        }
    }

    private static func codePoint(_ v: UInt32) -> String {
        let hex = String(v, radix: 16, uppercase: true)
        return "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
    }
}
