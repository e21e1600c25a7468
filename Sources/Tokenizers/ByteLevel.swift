/// GPT-2's reversible byte <-> Unicode mapping (`bytes_to_unicode`).
///
/// Printable Latin-1 bytes map to themselves; the other 68 bytes (controls, space, 0x7F-0xA0,
/// 0xAD) map to U+0100 onward, so a space becomes `Ġ` and a newline `Ċ`. Byte-level BPE
/// vocabularies store every token in this alphabet.
public enum ByteLevel {
    /// `byteToScalar[b]` is the character that stands for byte `b`.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse of ``byteToScalar``: scalar value -> byte, for scalars below U+0144.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// The byte-level spelling of raw bytes (e.g. `[0x20, 0x50]` -> `"ĠP"`).
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// The raw bytes that a byte-level string spells, or `nil` if it contains a character
    /// outside the 256-character alphabet (e.g. an added token such as `<|im_end|>` is fine,
    /// but `"é"` written directly is not).
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            let v = Int(s.value)
            guard v < scalarToByte.count, scalarToByte[v] >= 0 else { return nil }
            out.append(UInt8(scalarToByte[v]))
        }
        return out
    }
}
