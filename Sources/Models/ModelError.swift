/// Errors from loading a model or running it. Each description is one line that says what
/// was wrong and where.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownArchitecture(file: String, architecture: String, supported: [String])
    case missingMetadata(file: String, key: String)
    case badMetadata(file: String, key: String, reason: String)
    case tensorShape(file: String, tensor: String, expected: [Int], found: [Int])
    case unknownHook(name: String, suggestions: [String])
    case promptTooLong(sequence: Int, tokens: Int, contextLength: Int)
    case emptySequence(sequence: Int)
    case tokenOutOfRange(sequence: Int, position: Int, token: Int, vocabSize: Int)
    case unrecognizedModelPath(path: String)
    case hookShape(hook: String, expected: [Int], found: [Int])
    case unsupportedHookEdit(hook: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownArchitecture(file, arch, supported):
            return "\(file): architecture '\(arch)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case let .missingMetadata(file, key):
            return "\(file): required metadata '\(key)' is missing"
        case let .badMetadata(file, key, reason):
            return "\(file): metadata '\(key)' \(reason)"
        case let .tensorShape(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .unknownHook(name, suggestions):
            let hint = suggestions.isEmpty ? "run `loupe hooks` for the list"
                : "did you mean " + suggestions.map { "'\($0)'" }.joined(separator: ", ") + "?"
            return "unknown hook point '\(name)': \(hint)"
        case let .promptTooLong(seq, tokens, ctx):
            return "sequence \(seq) has \(tokens) tokens, longer than the model's context of \(ctx) tokens"
        case let .emptySequence(seq):
            return "sequence \(seq) is empty: nothing to run"
        case let .tokenOutOfRange(seq, pos, token, vocab):
            return "sequence \(seq), position \(pos): token id \(token) is outside the vocabulary (0..<\(vocab))"
        case let .unrecognizedModelPath(path):
            return "\(path): not a .gguf file nor a folder with config.json and safetensors weights"
        case let .hookShape(hook, expected, found):
            return "hook '\(hook)': shape \(found), expected \(expected)"
        case let .unsupportedHookEdit(hook, reason):
            return "hook '\(hook)': \(reason)"
        }
    }
}
