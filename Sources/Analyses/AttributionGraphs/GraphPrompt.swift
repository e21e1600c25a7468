import Tokenizers

/// A prompt's tokens as circuit-tracer attributes them (`ensure_tokenized`): the text
/// encoded without special tokens, with the BOS token (else EOS, else PAD) prepended unless
/// the first token is already special, so position 0, which gets no nodes, is that token.
public enum GraphPrompt {
    /// - Throws: ``GraphError/badPrompt(_:)`` for a prompt with no tokens.
    public static func tokens(_ text: String, tokenizer: Tokenizer) throws -> [Int] {
        var ids = try tokenizer.encode(text)
        guard !ids.isEmpty else { throw GraphError.badPrompt("the prompt '\(text)' has no tokens") }
        if !tokenizer.isSpecial(ids[0]), let special = tokenizer.bosID ?? tokenizer.spec.eosID ?? tokenizer.spec.padID { ids.insert(special, at: 0) }
        return ids
    }
}
