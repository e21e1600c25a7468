import Tokenizers

/// Which token positions of each prompt a capture keeps.
public enum CapturePositions: Sendable, Equatable, Hashable {
    /// Every position.
    case all
    /// The last token.
    case last
    /// One position; negative counts from the end (`-1` is the last token).
    case index(Int)
    /// The last token of the prompt's `subject` field (ROME's "last subject token"), located
    /// by ``SubjectLocator`` (its first occurrence) like tracing and knockout.
    case subject

    /// Parses `all`, `last`, `subject` or an integer.
    public init?(_ text: String) {
        switch text {
        case "all": self = .all
        case "last": self = .last
        case "subject": self = .subject
        default:
            guard let n = Int(text) else { return nil }
            self = .index(n)
        }
    }

    /// The form `init?(_:)` parses, as stored in the capture table.
    public var spec: String {
        switch self {
        case .all: return "all"
        case .last: return "last"
        case .subject: return "subject"
        case .index(let n): return String(n)
        }
    }

    /// The absolute positions kept for a prompt of `tokens`, in increasing order.
    ///
    /// - Parameters:
    ///   - prompt: names the prompt in errors (`file.jsonl:3`).
    ///   - subject: the prompt's `subject` field, required by `.subject`.
    /// - Throws: ``StoreError/badPosition(prompt:reason:)`` when the position is outside the
    ///   prompt, or the subject is missing or not found in the tokens (the message lists them).
    public func resolve(tokens: [Int], subject: String?, tokenizer: Tokenizer, prompt: String) throws -> [Int] {
        let n = tokens.count
        switch self {
        case .all: return Array(0..<n)
        case .last: return [n - 1]
        case .index(let i):
            let p = i < 0 ? n + i : i
            guard p >= 0 && p < n else {
                throw StoreError.badPosition(prompt: prompt, reason: "position \(i) is outside the prompt's \(n) tokens")
            }
            return [p]
        case .subject:
            guard let subject, !subject.isEmpty else {
                throw StoreError.badPosition(prompt: prompt, reason: "positions 'subject' needs a non-empty \"subject\" field")
            }
            do {
                return [try SubjectLocator.range(of: subject, in: tokens, tokenizer: tokenizer).upperBound - 1]
            } catch TokenizerError.subjectNotFound {
                let pieces = tokens.map { "'" + String(decoding: tokenizer.bytes(for: [$0]), as: UTF8.self) + "'" }
                throw StoreError.badPosition(prompt: prompt, reason:
                    "subject '\(subject)' is not in the prompt's tokens [\(pieces.joined(separator: ", "))]")
            }
        }
    }
}
