/// Everything a byte-level BPE tokenizer needs, as plain values. The GGUF and tokenizer.json
/// front ends each build one of these; ``Tokenizer/init(spec:)`` does the rest.
public struct TokenizerSpec: Sendable {
    /// Token spellings by id: byte-level alphabet for normal tokens, raw text for added ones.
    public var tokens: [String]
    /// One per token (missing entries count as `.normal`).
    public var tokenTypes: [TokenType]
    /// Merge rules `"left right"`, highest priority first.
    public var merges: [String]
    public var preTokenizer: PreTokenizer
    public var normalization: TextNormalization
    /// Emit a piece whole when it is itself a token (Llama-3 style), instead of merging.
    public var ignoreMerges: Bool
    public var bosID: Int?
    public var eosID: Int?
    public var padID: Int?
    public var unknownID: Int?
    /// Extra end-of-generation ids beyond ``eosID`` (e.g. GGUF `eot_token_id`).
    public var extraEndOfGenerationIDs: [Int]
    /// Whether `encode(addSpecialTokens: true)` prepends ``bosID`` / appends ``eosID``.
    public var addBOS: Bool
    public var addEOS: Bool
    /// The Jinja chat template, if the file has one.
    public var chatTemplate: String?
    /// Where this came from, for error messages (a file path).
    public var source: String

    public init(tokens: [String], tokenTypes: [TokenType], merges: [String], preTokenizer: PreTokenizer,
                normalization: TextNormalization = .none, ignoreMerges: Bool = false,
                bosID: Int? = nil, eosID: Int? = nil, padID: Int? = nil, unknownID: Int? = nil,
                extraEndOfGenerationIDs: [Int] = [], addBOS: Bool = false, addEOS: Bool = false,
                chatTemplate: String? = nil, source: String = "tokenizer") {
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.normalization = normalization
        self.ignoreMerges = ignoreMerges
        self.bosID = bosID
        self.eosID = eosID
        self.padID = padID
        self.unknownID = unknownID
        self.extraEndOfGenerationIDs = extraEndOfGenerationIDs
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
        self.source = source
    }
}
