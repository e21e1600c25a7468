import Foundation

/// Why a tokenizer could not be built or used. Each case names the file or key involved.
public enum TokenizerError: Error, CustomStringConvertible, Sendable {
    /// The file uses a tokenizer model other than byte-level BPE (e.g. SentencePiece `llama`).
    case unsupportedModel(source: String, model: String)
    /// `tokenizer.ggml.pre` (or a tokenizer.json pre-tokenizer) that this module does not know.
    case unknownPreTokenizer(source: String, name: String, known: [String])
    /// A tokenizer.json component this module cannot reproduce faithfully.
    case unsupportedComponent(source: String, component: String, detail: String)
    /// A required key is missing or has the wrong type.
    case missingKey(source: String, key: String)
    /// Keys that exist but contradict each other or are out of range.
    case invalid(source: String, detail: String)
    /// A regular expression that ICU could not compile.
    case badPattern(pattern: String, detail: String)
    /// A pre-tokenizer regex whose matcher ran past its time budget on a text of `length`
    /// UTF-16 units (catastrophic backtracking, e.g. `(a+)+$`).
    case patternTooSlow(pattern: String, length: Int, seconds: Double)
    /// The chat template is absent or not one this module can render.
    case unsupportedChatTemplate(detail: String)
    /// A file that could not be read or parsed.
    case unreadableFile(path: String, detail: String)
    /// A subject (a substring of a prompt) that the prompt's tokens do not spell.
    case subjectNotFound(subject: String, prompt: String, tokens: [String])

    public var description: String {
        switch self {
        case let .subjectNotFound(subject, prompt, tokens):
            return "subject '\(subject)' does not occur in the prompt '\(prompt)' (tokens: \(tokens.map { "'\($0)'" }.joined(separator: " ")))"
        case let .unsupportedModel(source, model):
            return "\(source): tokenizer model '\(model)' is not supported (only byte-level BPE: GGUF 'gpt2', tokenizer.json 'BPE')"
        case let .unknownPreTokenizer(source, name, known):
            return "\(source): unknown pre-tokenizer '\(name)'; known: \(known.joined(separator: ", "))"
        case let .unsupportedComponent(source, component, detail):
            return "\(source): unsupported \(component): \(detail)"
        case let .missingKey(source, key):
            return "\(source): missing or mistyped key '\(key)'"
        case let .invalid(source, detail):
            return "\(source): \(detail)"
        case let .badPattern(pattern, detail):
            return "cannot compile pre-tokenizer regex \(pattern.debugDescription): \(detail)"
        case let .patternTooSlow(pattern, length, seconds):
            return "pre-tokenizer regex \(pattern.debugDescription) was stopped after \(String(format: "%.2f", seconds)) s of CPU time on a text of \(length) UTF-16 units (the budget is 1 s plus 5 µs per unit): the pattern backtracks catastrophically; fix the model's tokenizer file"
        case let .unsupportedChatTemplate(detail):
            return "chat template: \(detail)"
        case let .unreadableFile(path, detail):
            return "\(path): \(detail)"
        }
    }
}
