/// Minimal UTF-8 structure checks used by streaming decode and token display.
enum UTF8Validation {
    /// Expected sequence length for a lead byte, or 0 if `b` cannot start a sequence.
    static func expectedLength(lead b: UInt8) -> Int {
        switch b {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// Length of the valid, complete UTF-8 sequence starting at `i`, or 0 if there is none.
    static func sequenceLength(_ bytes: [UInt8], at i: Int) -> Int {
        let len = expectedLength(lead: bytes[i])
        guard len > 0, i + len <= bytes.count else { return 0 }
        if len == 1 { return 1 }
        let s = String(validating: bytes[i..<(i + len)], as: UTF8.self)
        return s == nil ? 0 : len
    }

    /// How many trailing bytes form the start of a sequence that more bytes could still
    /// complete (0 if the buffer ends cleanly or with bytes that can never become valid).
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        guard n > 0 else { return 0 }
        for back in 1...min(3, n) {
            let b = bytes[n - back]
            guard b & 0xC0 == 0x80 else {  // found the last lead (or ASCII) byte
                let len = expectedLength(lead: b)
                guard len > back else { return 0 }
                if back >= 2, !validSecondByte(lead: b, second: bytes[n - back + 1]) { return 0 }
                return back
            }
        }
        return 0
    }

    /// Second-byte ranges: E0, ED, F0 and F4 are narrower than plain continuation bytes.
    private static func validSecondByte(lead: UInt8, second: UInt8) -> Bool {
        switch lead {
        case 0xE0: return (0xA0...0xBF).contains(second)
        case 0xED: return (0x80...0x9F).contains(second)
        case 0xF0: return (0x90...0xBF).contains(second)
        case 0xF4: return (0x80...0x8F).contains(second)
        default: return (0x80...0xBF).contains(second)
        }
    }
}
