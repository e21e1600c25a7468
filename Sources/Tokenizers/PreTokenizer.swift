import Foundation

/// Splits text into the pieces ("words") that BPE encodes one at a time.
///
/// A pre-tokenizer is a list of regex rules applied in order, each with Hugging Face's
/// `Split(behavior: Isolated)` semantics (also llama.cpp's `unicode_regex_split`): every
/// match becomes its own piece and so does every stretch of text between matches; later
/// rules split the pieces that earlier rules produced, never across their boundaries.
/// SmolLM2's `Sequence[Digits(individual_digits), ByteLevel(use_regex)]` is the two rules
/// `\p{N}` then the GPT-2 regex.
public struct PreTokenizer: Sendable {
    /// The name it was built from (`tokenizer.ggml.pre`, or a description of a tokenizer.json).
    public let name: String
    /// The rules' patterns, in the Oniguruma dialect, in the order they are applied.
    public var patterns: [String] { rules.map(\.source) }
    /// Whether a space is prepended to each text segment that does not start with one
    /// (Hugging Face `ByteLevel(add_prefix_space: true)`).
    public let addPrefixSpace: Bool
    let rules: [RegexPattern]

    /// A pre-tokenizer from explicit patterns (Oniguruma/llama.cpp dialect).
    /// - Throws: ``TokenizerError/badPattern(pattern:detail:)`` if one does not compile.
    public init(name: String, patterns: [String], addPrefixSpace: Bool = false) throws {
        self.init(name: name, rules: try patterns.map(PreTokenizer.compiled), addPrefixSpace: addPrefixSpace)
    }

    init(name: String, rules: [RegexPattern], addPrefixSpace: Bool) {
        self.name = name
        self.rules = rules
        self.addPrefixSpace = addPrefixSpace
    }

    /// The pieces of `text`, as strings (for inspection and tests; encoding uses ``ranges(_:)``).
    /// - Throws: ``TokenizerError/patternTooSlow(pattern:length:seconds:)`` when a rule's regex
    ///   backtracks beyond its budget on this text.
    public func split(_ text: String) throws -> [String] {
        let source = addPrefixSpace && !text.hasPrefix(" ") && !text.isEmpty ? " " + text : text
        let units = Array(source.utf16)
        return try ranges(in: source, units: units).map { String(decoding: units[$0], as: UTF16.self) }
    }

    /// Piece boundaries as UTF-16 offset ranges into `units` (which must be `text.utf16`).
    func ranges(in text: String, units: [UInt16]) throws -> [Range<Int>] {
        if units.isEmpty { return [] }
        var pieces: [Range<Int>] = [0..<units.count]
        for rule in rules {
            var next: [Range<Int>] = []
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                let sub: String
                if piece.count == units.count {
                    sub = text
                } else {
                    sub = String(decoding: units[piece], as: UTF16.self)
                }
                try Self.split(sub, length: piece.count, offset: piece.lowerBound, by: rule, into: &next)
            }
            pieces = next
        }
        return pieces
    }

    /// Appends matches and the gaps between them (both non-empty) as offset ranges.
    private static func split(_ text: String, length: Int, offset: Int, by rule: RegexPattern,
                              into out: inout [Range<Int>]) throws {
        var cursor = 0
        for r in try rule.matches(in: text, length: length) {
            if r.length == 0 { continue }
            if r.location > cursor { out.append((offset + cursor)..<(offset + r.location)) }
            out.append((offset + r.location)..<(offset + r.location + r.length))
            cursor = r.location + r.length
        }
        if cursor < length { out.append((offset + cursor)..<(offset + length)) }
    }
}
