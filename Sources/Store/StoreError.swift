/// Errors from the activation store and from capturing into it. Each description is one
/// line that names the file (and line, prompt or hook) and what was wrong.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The file exists but is not an SQLite database, or SQLite reports it damaged.
    case notAStore(path: String, reason: String)
    /// The store's schema is newer than this build understands.
    case schemaTooNew(path: String, found: Int, supported: Int)
    /// The store was made with another model file (content hash differs).
    case modelMismatch(path: String, stored: String, storedHash: String, given: String, givenHash: String)
    /// The store was made with another tokenizer.
    case tokenizerMismatch(path: String, storedHash: String, givenHash: String)
    /// A prompt file could not be read or parsed; `line` is 1-based (0 for the whole file).
    case badPromptFile(path: String, line: Int, reason: String)
    /// A hook pattern matched no hook point of the model.
    case unknownHookPattern(pattern: String, suggestions: [String])
    /// A position selection that does not fit a prompt.
    case badPosition(prompt: String, reason: String)
    /// Corpus windowing options that cannot work (`--context`, `--min-window`).
    case badWindowing(reason: String)
    /// A capture, hook or prompt asked for that the store does not hold.
    case notFound(path: String, what: String)
    /// No capture id was given and the store holds several, so none can be chosen for the caller.
    case ambiguousCapture(path: String, ids: [Int64])
    /// A stored row whose blob does not match its recorded shape and dtype.
    case corruptRow(path: String, row: String, reason: String)
    /// Anything else SQLite reported, with the statement.
    case sqlite(path: String, message: String)
    /// A shard (`--shard I/N` or a job runner's variables) that does not make sense.
    case badShard(String)

    public var description: String {
        switch self {
        case let .notAStore(path, reason):
            return "\(path): not a Loupe activation store (\(reason))"
        case let .schemaTooNew(path, found, supported):
            return "\(path): store schema version \(found) is newer than this build's \(supported); update Loupe"
        case let .modelMismatch(path, stored, storedHash, given, givenHash):
            return "\(path): made with model \(stored) (hash \(storedHash)), not \(given) (hash \(givenHash)); "
                + "use another store, or pass --allow-model-mismatch to add this model's captures to it"
        case let .tokenizerMismatch(path, storedHash, givenHash):
            return "\(path): made with another tokenizer (hash \(storedHash), given \(givenHash)); "
                + "use another store, or pass --allow-model-mismatch"
        case let .badPromptFile(path, line, reason):
            return line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)"
        case let .unknownHookPattern(pattern, suggestions):
            let hint = suggestions.isEmpty ? "run `loupe hooks` for the list"
                : "did you mean " + suggestions.map { "'\($0)'" }.joined(separator: ", ") + "?"
            return "hook pattern '\(pattern)' matches no hook point: \(hint)"
        case let .badPosition(prompt, reason):
            return "\(prompt): \(reason)"
        case let .badWindowing(reason):
            return reason
        case let .notFound(path, what):
            return "\(path): no \(what)"
        case let .ambiguousCapture(path, ids):
            return "\(path): holds \(ids.count) captures (ids \(ids.map(String.init).joined(separator: ", "))); choose one by its id"
        case let .corruptRow(path, row, reason):
            return "\(path): \(row): \(reason)"
        case let .sqlite(path, message):
            return "\(path): \(message)"
        case let .badShard(reason):
            return reason
        }
    }
}
