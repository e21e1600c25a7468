import Tokenizers

/// The store rows a semi-NMF fit leaves out, as the method asks ("every token but position 0
/// and special tokens"): position 0 (the attention sink, whose activations are outliers) and
/// rows whose token is a special (control) token such as `<|im_start|>` or `<|endoftext|>`.
public struct SNMFLeftOut: Sendable, Equatable, Codable {
    /// The special token ids looked for (empty: no tokenizer was at hand).
    public var specialIDs: [Int]
    /// Rows at position 0 left out.
    public var firstPosition = 0
    /// Rows at a later position whose token is one of ``specialIDs``, left out.
    public var specialTokens = 0

    public init(specialIDs: [Int] = []) { self.specialIDs = Array(Set(specialIDs)).sorted() }

    /// The control-token ids of `tokenizer` (``TokenType/control``: `<|im_start|>`,
    /// `<|im_end|>`, `<|endoftext|>`, ... in SmolLM2).
    public static func specialIDs(of tokenizer: Tokenizer) -> [Int] {
        (0..<tokenizer.vocabSize).filter { tokenizer.tokenType($0) == .control }
    }

    /// A summary line, e.g. `12 at position 0, 3 special tokens (3 special ids looked for)`.
    public var description: String {
        let looked = specialIDs.isEmpty ? "no tokenizer given, so special tokens were not looked for"
            : "\(specialIDs.count) special ids looked for"
        return "\(firstPosition) at position 0, \(specialTokens) special tokens (\(looked))"
    }
}

/// Counts and filters rows by ``SNMFLeftOut``'s rule while a store is read.
struct SNMFRowFilter {
    let special: Set<Int>
    var leftOut: SNMFLeftOut

    init(specialIDs: [Int]) {
        special = Set(specialIDs)
        leftOut = SNMFLeftOut(specialIDs: specialIDs)
    }

    /// Whether a row at `position` holding `token` is kept (counting it when not).
    mutating func keeps(position: Int, token: Int) -> Bool {
        if position == 0 { leftOut.firstPosition += 1; return false }
        if special.contains(token) { leftOut.specialTokens += 1; return false }
        return true
    }

    /// Whether a row is kept, without counting (for later passes over the same rows).
    func kept(position: Int, token: Int) -> Bool { position != 0 && !special.contains(token) }
}

extension SNMFLeftOut {
    /// A copy with the given counts.
    public func with(firstPosition: Int, specialTokens: Int) -> SNMFLeftOut {
        var copy = self
        copy.firstPosition = firstPosition
        copy.specialTokens = specialTokens
        return copy
    }
}
