/// A vocabulary entry's kind, numbered as GGUF's `tokenizer.ggml.token_type` (llama.cpp).
public enum TokenType: Int, Sendable, CaseIterable {
    case undefined = 0
    /// Ordinary BPE token, spelled in the byte-level alphabet.
    case normal = 1
    case unknown = 2
    /// Special token such as `<|im_end|>`: matched whole in the input (unless
    /// `parseSpecial` is false) and dropped by `decode(skipSpecial: true)`.
    case control = 3
    /// Added token spelled as raw text; always matched whole in the input.
    case userDefined = 4
    case unused = 5
    case byte = 6

    /// The type for a raw GGUF value; unknown numbers become `.undefined`.
    public init(gguf value: Int) { self = TokenType(rawValue: value) ?? .undefined }

    /// Whether the token's text is raw (not byte-level) and matched whole before BPE.
    public var isAdded: Bool { self == .control || self == .userDefined }
}
