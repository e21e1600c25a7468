import Formats

extension TokenizerSpec {
    /// Reads the `tokenizer.*` keys of a GGUF file.
    ///
    /// `tokenizer.ggml.model` must be `gpt2` (byte-level BPE). The pre-tokenizer comes from
    /// `tokenizer.ggml.pre` via ``PreTokenizer/named(_:source:)`` (unknown names throw; a
    /// missing key means `default`, as in llama.cpp). BOS is added when
    /// `tokenizer.ggml.add_bos_token` says so, else per llama.cpp's default for the pre name.
    /// - Throws: ``TokenizerError`` naming the file and key.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let source = gguf.path
        guard let model = m["tokenizer.ggml.model"]?.string else {
            throw TokenizerError.missingKey(source: source, key: "tokenizer.ggml.model")
        }
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(source: source, model: model) }
        guard let tokens = m["tokenizer.ggml.tokens"]?.strings else {
            throw TokenizerError.missingKey(source: source, key: "tokenizer.ggml.tokens")
        }
        let types = m["tokenizer.ggml.token_type"]?.ints ?? []
        guard let merges = m["tokenizer.ggml.merges"]?.strings else {
            throw TokenizerError.missingKey(source: source, key: "tokenizer.ggml.merges")
        }
        let preName = m["tokenizer.ggml.pre"]?.string ?? "default"
        let family = PreTokenizer.family(named: preName)
        let pre = try PreTokenizer.named(preName, source: "\(source) (tokenizer.ggml.pre)")

        func id(_ key: String) throws -> Int? {
            guard let v = m[key] else { return nil }
            guard let i = v.int else { throw TokenizerError.missingKey(source: source, key: key) }
            return (0..<tokens.count).contains(i) ? i : nil  // llama.cpp ignores out-of-range ids
        }
        let extraEOG = try ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"].compactMap(id)

        self.init(tokens: tokens,
                  tokenTypes: types.map(TokenType.init(gguf:)),
                  merges: merges,
                  preTokenizer: pre,
                  ignoreMerges: family?.ignoreMerges ?? false,
                  bosID: try id("tokenizer.ggml.bos_token_id"),
                  eosID: try id("tokenizer.ggml.eos_token_id"),
                  padID: try id("tokenizer.ggml.padding_token_id"),
                  unknownID: try id("tokenizer.ggml.unknown_token_id"),
                  extraEndOfGenerationIDs: extraEOG,
                  addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? (family?.addBOSByDefault ?? false),
                  addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                  chatTemplate: m["tokenizer.chat_template"]?.string,
                  source: source)
    }
}

extension Tokenizer {
    /// The tokenizer stored in a GGUF file (see ``TokenizerSpec/init(gguf:)``).
    public convenience init(gguf: GGUFFile) throws {
        try self.init(spec: TokenizerSpec(gguf: gguf))
    }
}
