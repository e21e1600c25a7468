/// Finds which tokens of a prompt spell a substring (the subject of a fact), by the bytes each
/// token decodes to. The one locator of Loupe: `capture --positions subject`, causal tracing,
/// attention knockout, probes read at the subject and steering all call it, so they agree on
/// the subject's tokens.
///
/// The first occurrence counts, as in ROME's `find_token_range` (`string.index(substring)`):
/// in "Paris is in France and Paris is", the subject "Paris" is tokens of the first "Paris".
public enum SubjectLocator {
    /// Positions of the tokens covering the first occurrence of `subject` in the bytes `ids`
    /// decode to: from the token holding its first byte through the token holding its last.
    /// - Throws: ``TokenizerError/subjectNotFound(subject:prompt:tokens:)`` showing the tokens.
    public static func range(of subject: String, in ids: [Int], tokenizer: Tokenizer) throws -> Range<Int> {
        var starts: [Int] = [], bytes: [UInt8] = []
        for id in ids {
            starts.append(bytes.count)
            bytes += tokenizer.bytes(for: [id])
        }
        let needle = Array(subject.utf8)
        guard !needle.isEmpty, needle.count <= bytes.count,
              let at = (0...(bytes.count - needle.count)).first(where: { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        else {
            throw TokenizerError.subjectNotFound(subject: subject, prompt: tokenizer.decode(ids), tokens: ids.map(tokenizer.tokenString))
        }
        let end = at + needle.count
        let first = starts.lastIndex { $0 <= at }!
        let last = starts.lastIndex { $0 < end }!
        return first..<(last + 1)
    }
}
