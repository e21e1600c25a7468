import Tokenizers

/// Finds which tokens of a prompt spell a substring (the subject of a fact), by the bytes
/// each token decodes to, as ROME's `find_token_range` does with decoded text.
public enum SubjectLocator {
    /// Positions of the tokens covering the last occurrence of `subject` in the text `ids`
    /// decode to. Throws ``AnalysisError/subjectNotFound(subject:prompt:tokens:)`` showing the tokens.
    public static func range(of subject: String, in ids: [Int], tokenizer: Tokenizer) throws -> Range<Int> {
        var starts: [Int] = [], bytes: [UInt8] = []
        for id in ids {
            starts.append(bytes.count)
            bytes += tokenizer.bytes(for: [id])
        }
        let needle = Array(subject.utf8)
        let prompt = tokenizer.decode(ids)
        guard !needle.isEmpty, needle.count <= bytes.count,
              let at = (0...(bytes.count - needle.count)).reversed().first(where: { Array(bytes[$0..<($0 + needle.count)]) == needle })
        else {
            throw AnalysisError.subjectNotFound(subject: subject, prompt: prompt, tokens: ids.map(tokenizer.tokenString))
        }
        let end = at + needle.count
        let first = starts.lastIndex { $0 <= at }!
        let last = starts.lastIndex { $0 < end }!
        return first..<(last + 1)
    }
}
