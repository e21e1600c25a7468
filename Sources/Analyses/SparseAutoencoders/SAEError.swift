/// Why an SAE could not be built, trained, loaded or applied; each message names the value.
public enum SAEError: Error, CustomStringConvertible, Equatable {
    /// A size that is not positive, or whose product overflows.
    case badSize(String)
    /// Activation rows whose width is not the SAE's `d_in`.
    case widthMismatch(expected: Int, found: Int, what: String)
    /// A row holding NaN or infinity.
    case nonFinite(row: Int, what: String)
    /// A `cfg.json` field that is missing, of the wrong type or contradicts another.
    case badConfig(file: String, field: String, reason: String)
    /// A weight tensor whose shape is not the one `cfg.json` implies.
    case badTensor(file: String, name: String, expected: [Int], found: [Int]?)
    /// A source with no rows left after filtering.
    case noRows(String)
    /// An SAE whose `d_in` is not the width of the hook point it is applied at.
    case hookWidthMismatch(hook: String, hookWidth: Int, saeWidth: Int)
    /// A transcoder applied without its output hook or at hooks that do not fit it (or an SAE given one).
    case wrongHook(String)
    /// A training checkpoint that cannot be read or does not belong to this run (names the field).
    case checkpoint(String)
    /// An SAE a format has no way to represent (e.g. an architecture sparsify lacks).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .badSize(message): return message
        case let .widthMismatch(expected, found, what):
            return "\(what) has width \(found), but the SAE's d_in is \(expected)"
        case let .nonFinite(row, what): return "\(what): row \(row) holds NaN or infinity"
        case let .badConfig(file, field, reason): return "\(file): field '\(field)' \(reason)"
        case let .badTensor(file, name, expected, found):
            return "\(file): tensor '\(name)' " + (found.map { "has shape \($0), expected \(expected)" } ?? "is missing (expected shape \(expected))")
        case let .noRows(message): return message
        case let .wrongHook(message): return message
        case let .checkpoint(message): return message
        case let .unsupported(message): return message
        case let .hookWidthMismatch(hook, hookWidth, saeWidth):
            return "the SAE reads rows of width \(saeWidth) (d_in), but \(hook) has rows of width \(hookWidth); was it trained at another hook?"
        }
    }
}
