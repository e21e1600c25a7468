import Foundation

extension TokenizerSpec {
    /// Reads a Hugging Face `tokenizer.json` (byte-level BPE: GPT-2, Llama-3, SmolLM, Qwen2
    /// styles) and, if given, its `tokenizer_config.json` for BOS/EOS/PAD names,
    /// `add_bos_token`/`add_eos_token` and `chat_template`.
    ///
    /// Added tokens become ``TokenType/control`` when `special` is true, else
    /// ``TokenType/userDefined``; their `lstrip`/`rstrip`/`single_word` flags are ignored.
    /// BOS/EOS addition comes from the post-processor (`TemplateProcessing`), overridden by
    /// the config's `add_bos_token`/`add_eos_token`.
    /// - Throws: ``TokenizerError`` naming the file and the component it cannot handle.
    /// Most unused ids a tokenizer.json may leave between its entries.
    static let maxIDGap = 1 << 16

    public init(tokenizerJSON path: String, tokenizerConfig configPath: String? = nil) throws {
        let file = try HFTokenizerJSON(path: path)
        let model = try file.model()
        let added = try file.addedTokens()
        try file.checkDecoder()
        let normalization = try file.normalization()
        let pre = try file.preTokenizer()

        // Ids index arrays sized from the largest: bound them by what the file holds (a few
        // unused ids between entries are allowed), so one id of 1e9 cannot cost gigabytes.
        let limit = model.vocab.count + added.count + Self.maxIDGap
        if let (text, id) = model.vocab.first(where: { $0.value < 0 || $0.value >= limit }) {
            throw TokenizerError.invalid(source: path, detail: "token '\(text)' has id \(id); the file holds \(model.vocab.count + added.count) tokens, so ids must lie in 0..<\(limit)")
        }
        if let t = added.first(where: { $0.id < 0 || $0.id >= limit }) {
            throw TokenizerError.invalid(source: path, detail: "added token '\(t.content)' has id \(t.id); the file holds \(model.vocab.count + added.count) tokens, so ids must lie in 0..<\(limit)")
        }
        let count = max(model.vocab.values.max() ?? -1, added.map(\.id).max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: count)
        var types = [TokenType](repeating: .normal, count: count)
        for (text, id) in model.vocab where id >= 0 { tokens[id] = text }
        for t in added where t.id >= 0 {
            tokens[t.id] = t.content
            types[t.id] = t.special ? .control : .userDefined
        }
        var filled: [String] = []
        filled.reserveCapacity(count)
        for (id, t) in tokens.enumerated() {
            if let t { filled.append(t) } else { filled.append("<unused_\(id)>"); types[id] = .unused }
        }

        let config = try configPath.map(HFTokenizerJSON.readObject) ?? [:]
        var lookup: [String: Int] = [:]
        for (id, t) in filled.enumerated() where lookup[t] == nil { lookup[t] = id }
        func configToken(_ key: String) -> Int? {
            if let s = config[key] as? String { return lookup[s] }
            if let d = config[key] as? [String: Any], let s = d["content"] as? String { return lookup[s] }
            return nil
        }
        let addedBy = file.specialsAdded()
        let eos = configToken("eos_token") ?? addedBy.eos ?? lookup["<|endoftext|>"].flatMap { types[$0].isAdded ? $0 : nil }
        let bos = configToken("bos_token") ?? addedBy.bos

        var template = config["chat_template"] as? String
        if template == nil, let list = config["chat_template"] as? [[String: Any]] {
            template = (list.first { $0["name"] as? String == "default" } ?? list.first)?["template"] as? String
        }

        let name = Self.knownName(patterns: pre.patterns) ?? "tokenizer.json:\(pre.description)"
        self.init(tokens: filled,
                  tokenTypes: types,
                  merges: model.merges,
                  preTokenizer: try PreTokenizer(name: name, patterns: pre.patterns, addPrefixSpace: pre.addPrefixSpace),
                  normalization: normalization,
                  ignoreMerges: model.ignoreMerges,
                  bosID: bos,
                  eosID: eos,
                  padID: configToken("pad_token"),
                  unknownID: model.unknownToken.flatMap { lookup[$0] } ?? configToken("unk_token"),
                  addBOS: (config["add_bos_token"] as? Bool) ?? (addedBy.bos != nil),
                  addEOS: (config["add_eos_token"] as? Bool) ?? (addedBy.eos != nil),
                  chatTemplate: template,
                  source: path)
    }

    /// Hugging Face spellings of the pre-tokenizers in ``PreTokenizer/knownNames``, so a
    /// tokenizer.json reports the same name a GGUF conversion would.
    static let hfPatternNames: [([String], String)] = [
        ([PreTokenizer.byteLevelPattern], "gpt2"),
        ([#"\p{N}"#, PreTokenizer.byteLevelPattern], "smollm"),
        ([#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#], "llama-bpe"),
        ([#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#], "qwen2"),
    ]

    static func knownName(patterns: [String]) -> String? {
        hfPatternNames.first { $0.0 == patterns }?.1
    }
}

extension Tokenizer {
    /// The tokenizer in a Hugging Face `tokenizer.json` (see ``TokenizerSpec/init(tokenizerJSON:tokenizerConfig:)``).
    public convenience init(tokenizerJSON path: String, tokenizerConfig configPath: String? = nil) throws {
        try self.init(spec: TokenizerSpec(tokenizerJSON: path, tokenizerConfig: configPath))
    }
}
