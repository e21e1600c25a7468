/// Incremental decode for streaming generation: holds back bytes that start a UTF-8
/// sequence not yet complete, so a character split across tokens (common for emoji and
/// CJK) prints once, whole, instead of as U+FFFD.
///
/// Concatenating every ``push(_:)`` result and then ``finish()`` gives exactly
/// ``Tokenizer/decode(_:skipSpecial:)`` of all the ids.
public struct StreamingDecoder: Sendable {
    let tokenizer: Tokenizer
    let skipSpecial: Bool
    private var pending: [UInt8] = []

    init(tokenizer: Tokenizer, skipSpecial: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    public mutating func push(_ id: Int) -> String {
        pending += tokenizer.bytes(for: [id], skipSpecial: skipSpecial)
        let keep = UTF8Validation.incompleteSuffixLength(pending)
        let ready = pending[..<(pending.count - keep)]
        let text = String(decoding: ready, as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Flushes held-back bytes (an unfinished sequence becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes are being held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }
}
