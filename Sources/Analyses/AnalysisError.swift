/// Errors of an analysis's inputs; each says what was wrong and shows what it saw.
public enum AnalysisError: Error, CustomStringConvertible, Equatable {
    case notASingleToken(text: String, pieces: [String])
    case noiseShape(expected: [Int], found: [Int])
    case emptySubject
    case lengthMismatch(clean: Int, corrupted: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case let .notASingleToken(text, pieces):
            return "'\(text)' is not a single token: it splits into \(pieces.map { "'\($0)'" }.joined(separator: " "))"
        case let .noiseShape(expected, found):
            return "noise has shape \(found), expected [samples, subject tokens, width] = \(expected)"
        case .emptySubject:
            return "the subject covers no tokens"
        case let .lengthMismatch(clean, corrupted):
            return "the clean prompt has \(clean) tokens but the corrupted prompt has \(corrupted): patching needs equal lengths"
        case let .invalid(message):
            return message
        }
    }
}
