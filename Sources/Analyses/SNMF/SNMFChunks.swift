import Linalg

/// Where a fit's token rows came from, as reports and saved results name it.
public protocol SNMFRowProvenance {
    /// A file path, or `store capture N hook`.
    var source: String { get }
    /// The hook name (store rows) or nil.
    var hook: String? { get }
    /// Store rows left out (position 0, special tokens); nil for rows not read from a store.
    var leftOut: SNMFLeftOut? { get }
    /// Whether the rows came from a store, so each has a prompt, position and token.
    var hasOrigins: Bool { get }
    /// The prompt, position and token of each of `rows` and the text and token ids of their
    /// prompts; empty for rows not read from a store.
    func origins(of rows: Set<Int>) throws -> SNMFRowOrigins
}

extension SNMFRowProvenance {
    public var hasOrigins: Bool { false }
    public func origins(of rows: Set<Int>) throws -> SNMFRowOrigins { SNMFRowOrigins() }
}

/// Token rows a streamed fit reads pass after pass, a chunk at a time, never all at once:
/// the fit's memory is then bounded by `Y` (k x n) and one chunk, not by the rows (see
/// ``SemiNMF/streamingMemoryBytes(tokens:neurons:rank:chunkRows:)``).
public protocol SNMFChunks: SNMFRowProvenance {
    /// Rows (tokens) in all, n.
    var tokens: Int { get }
    /// Row width (neurons), d.
    var neurons: Int { get }
    /// Calls `body(first, chunk)` for consecutive chunks `[rows, d]` of at most `rows` rows,
    /// in the same order every pass, `first` being the chunk's first row index.
    /// - Throws: whatever reading throws; ``SNMFError/nonFiniteRow(row:source:)`` for a row
    ///   holding NaN or infinity.
    func forEachChunk(rows: Int, _ body: (Int, Tensor) throws -> Void) throws
}

extension SNMFRows: SNMFChunks {
    /// Slices of the in-memory matrix.
    public func forEachChunk(rows: Int, _ body: (Int, Tensor) throws -> Void) throws {
        let step = max(rows, 1)
        for first in stride(from: 0, to: tokens, by: step) {
            try body(first, matrix.rows(first..<min(tokens, first + step)))
        }
    }
}
