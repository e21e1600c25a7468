import Models

/// How corpus documents become fixed-length token windows (`loupe capture --corpus`).
///
/// A document's tokens (with `eos` appended when set) are cut into consecutive chunks, each
/// window being `bos` (when set) followed by its chunk, `context` tokens in all. The last,
/// shorter chunk is kept when it has at least `minWindow` document tokens and dropped
/// otherwise; by default `minWindow` is a full chunk, so every window has exactly `context`
/// tokens. Concatenating a document's chunks gives its tokens (up to the dropped tail).
public struct CorpusWindows: Sendable, Equatable {
    /// Tokens per window, BOS included.
    public let context: Int
    /// Fewest document tokens a last, partial window may have.
    public let minWindow: Int
    /// Prepended to every window, if set.
    public let bos: Int?
    /// Appended to every document before cutting, if set.
    public let eos: Int?

    /// Document tokens per window.
    public var chunk: Int { context - (bos == nil ? 0 : 1) }

    /// - Parameters:
    ///   - maxContext: the model's context length; `context` may not exceed it.
    ///   - minWindow: nil for a full chunk (partial windows dropped).
    /// - Throws: ``StoreError/badWindowing(reason:)`` when `context` is under 1 (2 with a
    ///   BOS) or over `maxContext`, or `minWindow` is outside 1...chunk.
    public init(context: Int, maxContext: Int, minWindow: Int? = nil, bos: Int? = nil, eos: Int? = nil) throws {
        let least = bos == nil ? 1 : 2
        guard context >= least else {
            throw StoreError.badWindowing(reason: "the window length must be at least \(least)\(bos == nil ? "" : " (each window starts with BOS)"), not \(context)")
        }
        guard context <= maxContext else {
            throw StoreError.badWindowing(reason: "the window length \(context) is longer than the model's context of \(maxContext) tokens")
        }
        self.context = context
        self.bos = bos
        self.eos = eos
        let chunk = context - (bos == nil ? 0 : 1)
        let m = minWindow ?? chunk
        guard m >= 1 && m <= chunk else {
            throw StoreError.badWindowing(reason: "the shortest window must be between 1 and \(chunk) (the document tokens of a window), not \(m)")
        }
        self.minWindow = m
    }

    /// Ranges of a document's tokens (eos included) that become windows, in order.
    public func ranges(documentLength n: Int) -> [Range<Int>] {
        stride(from: 0, to: n, by: chunk).compactMap { start in
            let end = Swift.min(start + chunk, n)
            return end - start == chunk || end - start >= minWindow ? start..<end : nil
        }
    }

    /// The windows of `documents` whose token ids (without specials) are `tokens[i]`, as
    /// prompts: text is the window's decoded document tokens, metadata is the document's
    /// (`source` and any other fields) plus `document` (0-based index in the file) and
    /// `window` (0-based index in the document), and `line` is the document's line.
    public func windows(documents: [PromptRecord], tokens: [[Int]],
                        decode: ([Int]) -> String) -> [(record: PromptRecord, tokens: [Int])] {
        precondition(documents.count == tokens.count, "\(documents.count) documents, \(tokens.count) token lists")
        var out: [(record: PromptRecord, tokens: [Int])] = []
        for (d, document) in documents.enumerated() {
            let ids = eos.map { tokens[d] + [$0] } ?? tokens[d]
            for (w, r) in ranges(documentLength: ids.count).enumerated() {
                let chunk = Array(ids[r])
                var metadata = document.metadata
                metadata["document"] = .number(Double(d))
                metadata["window"] = .number(Double(w))
                out.append((PromptRecord(text: decode(chunk), metadata: metadata, line: document.line),
                            bos.map { [$0] + chunk } ?? chunk))
            }
        }
        return out
    }
}
