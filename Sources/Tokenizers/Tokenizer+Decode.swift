extension Tokenizer {
    /// Text for `ids`. Bytes that do not form valid UTF-8 (e.g. half an emoji at the end)
    /// become U+FFFD. Ids outside the vocabulary are skipped.
    /// - Parameter skipSpecial: leave out control tokens (`<|im_start|>`, `<|im_end|>`, ...).
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: bytes(for: ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The raw bytes `ids` stand for (what ``decode(_:skipSpecial:)`` turns into text).
    public func bytes(for ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where tokenBytes.indices.contains(id) {
            if skipSpecial && types[id] == .control { continue }
            out.append(contentsOf: tokenBytes[id])
        }
        return out
    }

    /// A display form of one token for reports: its text with the leading space kept
    /// (`" Paris"`), control characters escaped (`\n`, `\t`, `\r`, `\u{0}`), and bytes that
    /// are not complete UTF-8 on their own shown as `<0xE2>`. `"<bad id N>"` for a bad id.
    public func tokenString(_ id: Int) -> String {
        guard tokenBytes.indices.contains(id) else { return "<bad id \(id)>" }
        return Self.display(tokenBytes[id])
    }

    static func display(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let len = UTF8Validation.sequenceLength(bytes, at: i)
            if len == 0 {
                out += "<0x" + String(bytes[i], radix: 16, uppercase: true).leftPadded(to: 2) + ">"
                i += 1
                continue
            }
            let s = String(decoding: bytes[i..<(i + len)], as: UTF8.self)
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case _ where scalar.properties.generalCategory == .control:
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default: out.unicodeScalars.append(scalar)
                }
            }
            i += len
        }
        return out
    }

    /// A decoder for streaming generation: feed ids one at a time and print what it returns.
    public func streamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
