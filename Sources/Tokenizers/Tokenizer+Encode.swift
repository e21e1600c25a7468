extension Tokenizer {
    /// Token ids for `text`.
    /// - Throws: ``TokenizerError/patternTooSlow(pattern:length:seconds:)`` when a model-supplied
    ///   pre-tokenizer regex backtracks beyond its budget on `text`.
    /// - Parameters:
    ///   - addSpecialTokens: add BOS/EOS as the file asks (``TokenizerSpec/addBOS``,
    ///     ``TokenizerSpec/addEOS``; SmolLM2 asks for neither).
    ///   - parseSpecial: match control tokens such as `<|im_end|>` written in the text as
    ///     single ids. When false they are tokenized as ordinary text. User-defined added
    ///     tokens are matched either way (as llama.cpp and Hugging Face do).
    public func encode(_ text: String, addSpecialTokens: Bool = false, parseSpecial: Bool = true) throws -> [Int] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialTokens, spec.addBOS, let bos = spec.bosID { out.append(Int32(bos)) }
        let matcher = parseSpecial ? allAdded : userDefinedOnly
        for segment in matcher.segments(text) {
            switch segment {
            case .token(let id): out.append(Int32(id))
            case .text(let plain): try encodePlain(plain, into: &out)
            }
        }
        if addSpecialTokens, spec.addEOS, let eos = spec.eosID { out.append(Int32(eos)) }
        return out.map(Int.init)
    }

    /// Pre-tokenizes and BPE-encodes text that contains no added tokens.
    func encodePlain(_ plain: String, into out: inout [Int32]) throws {
        var text = spec.normalization.apply(plain)
        if spec.preTokenizer.addPrefixSpace, !text.isEmpty, !text.hasPrefix(" ") { text = " " + text }
        let units = Array(text.utf16)
        var bytes: [UInt8] = []
        for range in try spec.preTokenizer.ranges(in: text, units: units) {
            bytes.removeAll(keepingCapacity: true)
            Self.appendUTF8(units[range], to: &bytes)
            if let hit = cache.get(bytes) {
                out.append(contentsOf: hit)
            } else {
                let ids = model.encode(bytes)
                cache.put(bytes, ids)
                out.append(contentsOf: ids)
            }
        }
    }

    /// UTF-16 -> UTF-8 (input comes from a Swift String, so surrogates are paired).
    @inline(__always)
    static func appendUTF8(_ units: ArraySlice<UInt16>, to out: inout [UInt8]) {
        var i = units.startIndex
        while i < units.endIndex {
            var scalar = UInt32(units[i])
            i += 1
            if scalar & 0xFC00 == 0xD800, i < units.endIndex, units[i] & 0xFC00 == 0xDC00 {
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (UInt32(units[i]) - 0xDC00)
                i += 1
            }
            switch scalar {
            case ..<0x80:
                out.append(UInt8(scalar))
            case ..<0x800:
                out.append(UInt8(0xC0 | scalar >> 6)); out.append(UInt8(0x80 | scalar & 0x3F))
            case ..<0x10000:
                out.append(UInt8(0xE0 | scalar >> 12)); out.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            default:
                out.append(UInt8(0xF0 | scalar >> 18)); out.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
                out.append(UInt8(0x80 | (scalar >> 6) & 0x3F)); out.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
    }
}
