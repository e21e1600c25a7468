/// Errors from fitting, loading and applying probes. Each description is one line naming
/// what was wrong and what to do.
public enum ProbeError: Error, CustomStringConvertible, Equatable {
    /// The labels hold fewer than two classes (nothing to separate).
    case oneClass(label: String, value: String)
    /// Examples without a label (field missing or null), by prompt index.
    case missingLabels(field: String, prompts: [Int])
    /// A hook the store's capture does not hold.
    case hookNotCaptured(hook: String, captured: [String])
    /// More features than training rows and no regularization: the fit is not determined.
    case underdetermined(features: Int, rows: Int, what: String)
    /// Not enough examples for the split or folds asked for.
    case tooFewExamples(needed: Int, have: Int, reason: String)
    /// A dataset definition or probe file that cannot be read.
    case badFile(path: String, reason: String)
    /// No capture in the store fits the dataset.
    case noCapture(store: String, reason: String)
    /// An option value out of range.
    case badOption(String)
    /// A numeric target field that is missing or not a number, by prompt index, with what was found.
    case badTarget(field: String, prompts: [Int], found: [String])
    /// Every example has the same target value: there is nothing to regress.
    case constantTarget(field: String, value: Double)

    public var description: String {
        switch self {
        case let .oneClass(label, value):
            return "label '\(label)' has one class only ('\(value)'): a probe needs at least two"
        case let .missingLabels(field, prompts):
            let list = prompts.prefix(8).map(String.init).joined(separator: ", ") + (prompts.count > 8 ? ", ..." : "")
            return "\(prompts.count) example(s) have no '\(field)' label (prompt indices \(list)); label every prompt or drop those lines"
        case let .hookNotCaptured(hook, captured):
            return "hook '\(hook)' is not captured in the store (it has \(captured.isEmpty ? "none" : captured.joined(separator: ", "))); "
                + "capture it with `loupe capture`, or pass --model to capture what is missing"
        case let .underdetermined(features, rows, what):
            return "\(features) features and only \(rows) training rows with no regularization: \(what); "
                + "give a finite --c (logistic) or --alpha > 0 (ridge)"
        case let .tooFewExamples(needed, have, reason):
            return "\(have) example(s), at least \(needed) needed: \(reason)"
        case let .badFile(path, reason):
            return "\(path): \(reason)"
        case let .noCapture(store, reason):
            return "\(store): \(reason)"
        case let .badOption(text):
            return text
        case let .badTarget(field, prompts, found):
            let list = zip(prompts, found).prefix(8).map { "prompt \($0) (\($1))" }.joined(separator: ", ")
            return "\(prompts.count) example(s) have no numeric '\(field)' value: \(list)\(prompts.count > 8 ? ", ..." : ""); "
                + "give every prompt a number in that field or drop those lines"
        case let .constantTarget(field, value):
            return "target '\(field)' is \(value) for every example: a constant has nothing to predict (R² is undefined); pick a field that varies"
        }
    }
}
