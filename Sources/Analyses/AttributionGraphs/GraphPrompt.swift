import Tokenizers

/// Whether a graph's prompt starts with a BOS token (`loupe graph --bos`).
public enum GraphBOS: String, Sendable, CaseIterable {
    /// circuit-tracer's `ensure_tokenized`: BOS (else EOS, else PAD) prepended unless the
    /// prompt's first token is already special. The default, so graphs match circuit-tracer's.
    case prepend
    /// The prompt's own tokens only: its first token takes position 0, which gets no nodes.
    case none
    /// What the tokenizer's config says (`add_bos_token`; GGUF `tokenizer.ggml.add_bos_token`):
    /// `prepend` when it adds BOS, else `none`, so the graph's logits are those of a plain
    /// forward pass of the prompt.
    case auto

    /// `prepend` or `none`: what `auto` means for `tokenizer`.
    public func resolved(for tokenizer: Tokenizer) -> GraphBOS {
        self == .auto ? (tokenizer.spec.addBOS && tokenizer.bosID != nil ? .prepend : .none) : self
    }

    /// The choice as the graph's metadata and summary record it: `prepend`, `none`,
    /// `auto (prepend)` or `auto (none)`.
    public func recorded(for tokenizer: Tokenizer) -> String {
        self == .auto ? "auto (\(resolved(for: tokenizer).rawValue))" : rawValue
    }
}

/// A prompt's tokens as a graph attributes them: the text encoded without special tokens,
/// then per ``GraphBOS`` a BOS token prepended (position 0, which gets no nodes) or not.
public enum GraphPrompt {
    /// - Throws: ``GraphError/badPrompt(_:)`` for a prompt with no tokens.
    public static func tokens(_ text: String, tokenizer: Tokenizer, bos: GraphBOS = .prepend) throws -> [Int] {
        var ids = try tokenizer.encode(text)
        guard !ids.isEmpty else { throw GraphError.badPrompt("the prompt '\(text)' has no tokens") }
        if bos.resolved(for: tokenizer) == .prepend, !tokenizer.isSpecial(ids[0]),
           let special = tokenizer.bosID ?? tokenizer.spec.eosID ?? tokenizer.spec.padID {
            ids.insert(special, at: 0)
        }
        return ids
    }
}
