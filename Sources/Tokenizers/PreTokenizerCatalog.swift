/// Pre-tokenizers by the name GGUF's `tokenizer.ggml.pre` gives, transcribed from
/// llama.cpp's `llm_tokenizer_bpe` (llama-vocab.cpp) with the same name groups.
///
/// Unknown names are an error rather than llama.cpp's silent fallback to `default`: a
/// wrong split changes token ids without any other symptom, which would quietly corrupt
/// every downstream measurement. The `smollm`, Llama-3 and Qwen2 groups and `gpt2` are
/// checked against Hugging Face `tokenizers` by the test suite; the others are transcribed.
extension PreTokenizer {
    /// GPT-2's regex (also the core of Hugging Face's `ByteLevel(use_regex: true)`).
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    /// Hugging Face's ByteLevel regex: GPT-2's plus a final `\s+` (same pieces; kept verbatim).
    static let byteLevelPattern = gpt2Pattern + #"|\s+"#
    static let llama3Pattern = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let digitPattern = #"\p{N}"#

    /// A family of names sharing one rule list.
    struct Family: Sendable {
        let names: [String]
        let patterns: [String]
        /// llama.cpp's `ignore_merges`: a piece that is itself a token is emitted whole.
        let ignoreMerges: Bool
        /// llama.cpp's default for `add_bos` when the GGUF has no `add_bos_token` key.
        let addBOSByDefault: Bool
    }

    static let families: [Family] = [
        Family(names: ["default"],
               patterns: [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2Pattern, #"\p{N}+"#, "[0-9][0-9][0-9]"],
               ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["gpt2", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
                       "a.x-4.0", "mellum", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo",
                       "jais", "trillion", "granite-docling"],
               patterns: [gpt2Pattern], ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"],
               patterns: [llama3Pattern], ignoreMerges: true, addBOSByDefault: true),
        Family(names: ["dbrx", "smaug-bpe", "glm4", "chatglm-bpe"],
               patterns: [llama3Pattern], ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"],
               patterns: [digitPattern, gpt2Pattern], ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan", "grok-2"],
               patterns: [qwen2Pattern], ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["falcon"],
               patterns: [#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2Pattern, "[0-9][0-9][0-9]"],
               ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["deepseek-coder"],
               patterns: [#"[\r\n]"#, #"\s?\p{L}+"#, #"\s?\p{P}+"#, "[一-龥ࠀ-一가-퟿]+", #"\p{N}"#],
               ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["poro-chat", "bloom", "gpt3-finnish"],
               patterns: [#" ?[^(\s|.,!?…。，、।۔،)]+"#], ignoreMerges: false, addBOSByDefault: false),
        Family(names: ["viking"],
               patterns: [#" ?[^(\s|.,!?…。，、।۔،)]+"#, #"\p{N}"#], ignoreMerges: false, addBOSByDefault: false),
    ]

    /// Every name ``named(_:)`` accepts, sorted.
    public static var knownNames: [String] { families.flatMap(\.names).sorted() }

    static func family(named name: String) -> Family? {
        families.first { $0.names.contains(name) }
    }

    /// The pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre` = `name`.
    /// - Throws: ``TokenizerError/unknownPreTokenizer(source:name:known:)`` listing ``knownNames``.
    public static func named(_ name: String, source: String = "pre-tokenizer") throws -> PreTokenizer {
        guard let family = family(named: name) else {
            throw TokenizerError.unknownPreTokenizer(source: source, name: name, known: knownNames)
        }
        return PreTokenizer(name: name, rules: try family.patterns.map(compiled), addPrefixSpace: false)
    }

    /// Shared compiled regexes, so building many tokenizers compiles each pattern once.
    private static let cache = PatternCache()

    static func compiled(_ pattern: String) throws -> RegexPattern {
        try cache.get(pattern)
    }
}
