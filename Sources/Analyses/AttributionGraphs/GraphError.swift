/// Why an attribution graph could not be built; each message names the value and the file.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    /// A transcoder set folder or its `transcoders.json` that is missing, malformed or contradictory.
    case badTranscoderSet(file: String, reason: String)
    /// A transcoder set that does not fit the model (name, width, layers, hooks).
    case modelMismatch(String)
    /// A model the attribution code does not handle (e.g. LayerNorm, a soft-capped unembedding).
    case unsupportedModel(String)
    /// A prompt that cannot be attributed (empty, longer than the context).
    case badPrompt(String)
    /// An option out of range.
    case badOption(String)

    public var description: String {
        switch self {
        case let .badTranscoderSet(file, reason): return "\(file): \(reason)"
        case let .modelMismatch(message), let .unsupportedModel(message), let .badPrompt(message), let .badOption(message):
            return message
        }
    }
}
