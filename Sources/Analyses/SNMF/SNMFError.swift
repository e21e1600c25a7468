/// What a semi-NMF fit refuses: each message names the value and what was expected.
public enum SNMFError: Error, CustomStringConvertible, Equatable {
    /// The input has no rows (tokens) or no columns (neurons).
    case empty(String)
    /// The rank is outside 1...min(tokens, neurons).
    case rankOutOfRange(rank: Int, tokens: Int, neurons: Int)
    /// A row (token) holds NaN or an infinity.
    case nonFiniteRow(row: Int, source: String)
    /// A setting outside its range (the message names it and the range).
    case invalidSetting(String)
    /// The matrix sizes overflow or exceed what one fit can hold.
    case tooLarge(String)
    /// The ridge system `Y Yᵀ + λI` could not be factored.
    case singularSystem(String)
    /// A saved result file that cannot be read.
    case badFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .empty(let what): return "nothing to factorize: \(what)"
        case let .rankOutOfRange(rank, tokens, neurons):
            return "rank \(rank) is outside 1...\(min(tokens, neurons)) (the input has \(tokens) tokens and \(neurons) neurons; the rank may not exceed either)"
        case let .nonFiniteRow(row, source): return "row \(row) of \(source) holds NaN or an infinity"
        case .invalidSetting(let s): return s
        case .tooLarge(let s): return s
        case .singularSystem(let s): return s
        case let .badFile(path, reason): return "\(path): \(reason)"
        }
    }
}
