/// A byte-level BPE tokenizer (GPT-2, Llama-3, SmolLM, Qwen2 families).
///
/// Build it from a GGUF file (``init(gguf:)``), a Hugging Face `tokenizer.json`
/// (``init(tokenizerJSON:tokenizerConfig:)``) or a plain ``TokenizerSpec``. Immutable apart
/// from an internal, locked word cache, so one instance can be shared across threads.
public final class Tokenizer: Sendable {
    /// The values this tokenizer was built from.
    public let spec: TokenizerSpec
    let tokenToID: [String: Int]
    let types: [TokenType]
    let model: BPEModel
    /// Control + user-defined tokens (used when `parseSpecial` is true).
    let allAdded: SpecialTokenMatcher
    /// User-defined tokens only (always matched, as in llama.cpp and Hugging Face).
    let userDefinedOnly: SpecialTokenMatcher
    /// Each token's decoded bytes.
    let tokenBytes: [[UInt8]]
    let cache = WordCache()

    /// Number of tokens in the vocabulary.
    public var vocabSize: Int { spec.tokens.count }
    public var bosID: Int? { spec.bosID }
    public var eosID: Int? { spec.eosID }
    public var padID: Int? { spec.padID }
    /// The pre-tokenizer's name (`tokenizer.ggml.pre`, e.g. `smollm`).
    public var preTokenizerName: String { spec.preTokenizer.name }
    /// The chat template text, if any.
    public var chatTemplate: String? { spec.chatTemplate }
    /// Ids that end generation: EOS, any extra ids from the file, and whichever of the
    /// usual end-of-turn tokens (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, ...) exist. Sorted.
    public let eogIDs: [Int]

    /// Spellings treated as end-of-generation when present (after llama.cpp's list).
    static let endOfGenerationTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                       "<|end_of_text|>", "<EOT>", "<|eom_id|>", "<｜end▁of▁sentence｜>"]

    /// Builds a tokenizer from plain values.
    /// - Throws: ``TokenizerError/invalid(source:detail:)`` if token types or special ids do not fit the vocabulary.
    public init(spec: TokenizerSpec) throws {
        let n = spec.tokens.count
        guard n > 0 else { throw TokenizerError.invalid(source: spec.source, detail: "empty vocabulary") }
        guard spec.tokenTypes.count <= n else {
            throw TokenizerError.invalid(source: spec.source,
                                         detail: "\(spec.tokenTypes.count) token types for \(n) tokens")
        }
        for (name, id) in [("bos", spec.bosID), ("eos", spec.eosID), ("pad", spec.padID), ("unknown", spec.unknownID)] {
            if let id, !(0..<n).contains(id) {
                throw TokenizerError.invalid(source: spec.source, detail: "\(name) token id \(id) outside vocabulary 0..<\(n)")
            }
        }
        self.spec = spec
        var types = spec.tokenTypes
        types += [TokenType](repeating: .normal, count: n - types.count)
        self.types = types

        var map: [String: Int] = [:]
        map.reserveCapacity(n)
        for (id, t) in spec.tokens.enumerated() where map[t] == nil { map[t] = id }
        tokenToID = map
        model = BPEModel(tokens: spec.tokens, tokenToID: map, merges: spec.merges,
                         ignoreMerges: spec.ignoreMerges, unknownID: spec.unknownID)

        var added: [(text: String, id: Int)] = []
        var userDefined: [(text: String, id: Int)] = []
        for id in 0..<n where types[id].isAdded {
            added.append((spec.tokens[id], id))
            if types[id] == .userDefined { userDefined.append((spec.tokens[id], id)) }
        }
        allAdded = SpecialTokenMatcher(tokens: added)
        userDefinedOnly = SpecialTokenMatcher(tokens: userDefined)

        tokenBytes = (0..<n).map { id in
            let t = spec.tokens[id]
            if types[id].isAdded { return Array(t.utf8) }
            return ByteLevel.decode(t) ?? Array(t.utf8)
        }

        var eog = Set<Int>()
        if let e = spec.eosID { eog.insert(e) }
        for id in spec.extraEndOfGenerationIDs where (0..<n).contains(id) { eog.insert(id) }
        for text in Self.endOfGenerationTexts { if let id = map[text], types[id].isAdded { eog.insert(id) } }
        eogIDs = eog.sorted()
    }

    /// The id of a token, given its vocabulary spelling (`"ĠParis"`, `"<|im_end|>"`) or,
    /// failing that, its plain text (`" Paris"`). `nil` if neither is a single token.
    public func id(of token: String) -> Int? {
        if let id = tokenToID[token] { return id }
        return tokenToID[ByteLevel.encode(token.utf8)]
    }

    /// The vocabulary spelling of a token (byte-level alphabet, e.g. `"ĠParis"`), or `nil` for a bad id.
    public func rawToken(_ id: Int) -> String? {
        spec.tokens.indices.contains(id) ? spec.tokens[id] : nil
    }

    /// The token's type, or `nil` for a bad id.
    public func tokenType(_ id: Int) -> TokenType? {
        types.indices.contains(id) ? types[id] : nil
    }

    /// Whether the id is a control token (`<|im_start|>` etc.).
    public func isSpecial(_ id: Int) -> Bool { tokenType(id) == .control }
}
