/// Errors of steering inputs; each names what was wrong and what was seen.
public enum SteeringError: Error, CustomStringConvertible, Equatable {
    case widthMismatch(hook: String, expected: Int, found: Int)
    case emptyContrastSet(String)
    case promptTooShort(prompt: String, tokens: Int, rule: String)
    case badDirectionFile(path: String, reason: String)
    case unsupportedHook(String)
    case notExportable(hook: String, reason: String)
    case calibrationFailed(target: Double, reached: Double, scale: Double)
    /// A saved probe that cannot give a direction or a concept score (wrong kind, no class chosen, wrong width).
    case unusableProbe(path: String, reason: String)
    /// A probe of more than two classes was given without naming the class to use.
    case probeClassNotChosen(path: String, classes: [String])
    case invalid(String)

    public var description: String {
        switch self {
        case let .widthMismatch(hook, expected, found):
            return "direction width mismatch at \(hook): the model's rows are \(expected) wide, the direction has \(found) values"
        case let .emptyContrastSet(what):
            return "empty contrast set: \(what)"
        case let .promptTooShort(prompt, tokens, rule):
            return "the prompt '\(prompt)' has \(tokens) token(s); position rule '\(rule)' needs at least 2 (position 0 is left out), use the 'last' rule"
        case let .badDirectionFile(path, reason):
            return "\(path): \(reason)"
        case let .unsupportedHook(hook):
            return "\(hook) cannot be steered: attention patterns are [heads, q, k]; use a residual, attention/MLP output or per-head point"
        case let .notExportable(hook, reason):
            return "cannot export \(hook) as a llama.cpp control vector: \(reason)"
        case let .calibrationFailed(target, reached, scale):
            return "could not reach KL \(target) on the neutral text: \(reached) at scale \(scale), the largest tried"
        case let .unusableProbe(path, reason):
            return "\(path): cannot steer with this probe: \(reason)"
        case let .probeClassNotChosen(path, classes):
            return "\(path): cannot steer with this probe: it has \(classes.count) classes (\(classes.joined(separator: ", "))): choose one by name"
        case let .invalid(message):
            return message
        }
    }
}
