/// Finds added tokens (such as `<|im_end|>`) in text before BPE, leftmost-longest like
/// Hugging Face's added-token splitter.
struct SpecialTokenMatcher: Sendable {
    /// One stretch of input: plain text to pre-tokenize, or an added token's id.
    enum Segment: Equatable {
        case text(String)
        case token(Int)
    }

    private let patterns: [(bytes: [UInt8], id: Int)]
    /// `byFirstByte[b]`: indices into `patterns` starting with byte `b`, longest first.
    private let byFirstByte: [[Int]]

    var isEmpty: Bool { patterns.isEmpty }

    init(tokens: [(text: String, id: Int)]) {
        let list = tokens.filter { !$0.text.isEmpty }.map { (bytes: Array($0.text.utf8), id: $0.id) }
        patterns = list
        var table = [[Int]](repeating: [], count: 256)
        for (i, p) in list.enumerated() { table[Int(p.bytes[0])].append(i) }
        for b in 0..<256 { table[b].sort { list[$0].bytes.count > list[$1].bytes.count } }
        byFirstByte = table
    }

    /// Splits `text` into plain-text and token segments, in order. Plain segments are never empty.
    func segments(_ text: String) -> [Segment] {
        if patterns.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var out: [Segment] = []
        var plainStart = 0
        var i = 0
        while i < bytes.count {
            var matched: (bytes: [UInt8], id: Int)?
            for candidate in byFirstByte[Int(bytes[i])] {
                let p = patterns[candidate]
                if i + p.bytes.count <= bytes.count, bytes[i..<(i + p.bytes.count)].elementsEqual(p.bytes) {
                    matched = p
                    break
                }
            }
            if let m = matched {
                if i > plainStart { out.append(.text(String(decoding: bytes[plainStart..<i], as: UTF8.self))) }
                out.append(.token(m.id))
                i += m.bytes.count
                plainStart = i
            } else {
                i += 1
            }
        }
        if plainStart < bytes.count { out.append(.text(String(decoding: bytes[plainStart...], as: UTF8.self))) }
        return out
    }
}
