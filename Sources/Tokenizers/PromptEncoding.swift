/// How a prompt's text becomes token ids: the chat template, BOS/EOS, and whether text such
/// as `<|im_end|>` is a special token. One value describes a dataset's tokenization, so a
/// capture can record it and a later run can check it.
public struct PromptEncoding: Sendable, Equatable {
    /// Wrap the text as a user message in the model's chat template (assistant turn opened).
    public var chat: Bool
    /// Treat special-token text as the special token (not as plain text).
    public var parseSpecial: Bool
    /// Add the tokenizer's BOS/EOS tokens as the model file asks.
    public var addSpecial: Bool

    public init(chat: Bool = false, parseSpecial: Bool = true, addSpecial: Bool = false) {
        self.chat = chat
        self.parseSpecial = parseSpecial
        self.addSpecial = addSpecial
    }

    /// The token ids of `text`.
    /// - Throws: ``TokenizerError/unsupportedChatTemplate(detail:)`` when `chat` is set and
    ///   the model has no usable template.
    public func encode(_ text: String, with tokenizer: Tokenizer) throws -> [Int] {
        var text = text
        if chat {
            text = try tokenizer.applyChatTemplate(messages: [ChatMessage(role: "user", content: text)], addGenerationPrompt: true)
        }
        return try tokenizer.encode(text, addSpecialTokens: addSpecial, parseSpecial: parseSpecial)
    }

    /// The JSON a capture stores as its dataset's encoding (keys sorted).
    public var json: String {
        "{\"addSpecial\":\(addSpecial),\"chat\":\(chat),\"parseSpecial\":\(parseSpecial)}"
    }
}
