import Foundation
import Formats
import Linalg
import Store

/// The token rows a semi-NMF factorizes (`X = Aᵀ`, `[n, d]`), with where each row came from
/// when it was read from an activation store.
///
/// Memory: the store path reads every row into memory as float32, `4 n d` bytes, before the
/// fit adds its own (see ``SemiNMF/memoryBytes(tokens:neurons:rank:)``).
public struct SNMFRows: Sendable {
    /// One row's origin in a store.
    public struct Origin: Sendable, Equatable {
        public var prompt: Int
        public var position: Int
        public var token: Int
    }

    /// `[n, d]` float32, a row per token.
    public var matrix: Tensor
    /// Where the rows came from (a file path, or `store:hook`).
    public var source: String
    /// The hook name (store rows) or nil.
    public var hook: String?
    /// Per row, its prompt, position and token (store rows only; empty otherwise).
    public var origins: [Origin]
    /// Per prompt index, its text and token ids (store rows only).
    public var prompts: [Int: (text: String, tokens: [Int])]
    /// Store rows left out (position 0, special tokens); nil for rows not read from a store.
    public var leftOut: SNMFLeftOut?

    public var tokens: Int { matrix.shape[0] }
    public var neurons: Int { matrix.shape[1] }

    public var hasOrigins: Bool { !origins.isEmpty }

    /// The origins of `rows` from ``origins`` and ``prompts``.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` for a row out of range.
    public func origins(of rows: Set<Int>) throws -> SNMFRowOrigins {
        guard hasOrigins else { return SNMFRowOrigins() }
        var result = SNMFRowOrigins()
        for row in rows {
            guard row >= 0 && row < origins.count else { throw SNMFError.invalidSetting("row \(row) of \(origins.count) in \(source)") }
            let o = origins[row]
            result.rows[row] = o
            if let p = prompts[o.prompt] { result.prompts[o.prompt] = p }
        }
        return result
    }

    /// Rows already in memory.
    /// - Throws: ``SNMFError`` when the matrix is not 2-D, is empty or holds a non-finite row.
    public init(matrix: Tensor, source: String, hook: String? = nil, origins: [Origin] = [],
                prompts: [Int: (text: String, tokens: [Int])] = [:], leftOut: SNMFLeftOut? = nil) throws {
        guard matrix.rank == 2 else { throw SNMFError.invalidSetting("\(source) has shape \(matrix.shape), expected [tokens, neurons]") }
        guard matrix.shape[0] > 0, matrix.shape[1] > 0 else { throw SNMFError.empty("\(source) has shape \(matrix.shape)") }
        let d = matrix.shape[1]
        try matrix.withUnsafeBufferPointer { x in
            for r in 0..<matrix.shape[0] {
                for j in 0..<d where !x[r * d + j].isFinite { throw SNMFError.nonFiniteRow(row: r, source: source) }
            }
        }
        self.matrix = matrix
        self.source = source
        self.hook = hook
        self.origins = origins
        self.prompts = prompts
        self.leftOut = leftOut
    }

    /// The `[n, d]` float32 array in a `.npy` file.
    /// - Throws: `FormatError` for an unreadable file, ``SNMFError`` for a bad matrix.
    public static func read(npy path: String) throws -> SNMFRows {
        try SNMFRows(matrix: try NumPyArray.read(path: path), source: path)
    }

    /// Every stored row of `hook` in capture `id` (nil: the store's only capture) except
    /// position 0 (the attention sink) and rows whose token is one of `specialIDs` (see
    /// ``SNMFLeftOut``), in stored order; ``leftOut`` counts both.
    /// - Throws: `StoreError` when the store, capture or hook is missing; ``SNMFError`` when no
    ///   row is left or a row is not finite.
    public static func read(store path: String, capture id: Int64?, hook: String, specialIDs: [Int] = []) throws -> SNMFRows {
        let db = try ActivationStore(path: path)
        let summary = try db.captureSummary(choosing: id)
        let capture = try db.capture(id: summary.id)
        var reader = try ActivationReader(store: db, capture: capture, hook: hook, batchSize: 4096)
        let width = reader.width
        let (bytes, overflow) = reader.rowCount.multipliedReportingOverflow(by: max(width, 1) * 4)
        guard !overflow, bytes <= Int(Int32.max) * 64 else {
            throw SNMFError.tooLarge("\(reader.rowCount) rows of width \(width) at \(hook) do not fit in memory")
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(reader.rowCount * width)
        var origins: [Origin] = []
        var filter = SNMFRowFilter(specialIDs: specialIDs)
        while let batch = try reader.nextBatch() {
            for r in 0..<batch.rows.shape[0] where filter.keeps(position: batch.positions[r], token: batch.tokens[r]) {
                scalars += batch.rows.scalars[(r * width)..<((r + 1) * width)]
                origins.append(Origin(prompt: batch.promptIndices[r], position: batch.positions[r], token: batch.tokens[r]))
            }
        }
        var prompts: [Int: (text: String, tokens: [Int])] = [:]
        let used = Set(origins.map(\.prompt))
        for p in try db.prompts(dataset: capture.datasetID) where used.contains(p.index) { prompts[p.index] = (p.text, p.tokens) }
        let source = "\(URL(fileURLWithPath: path).lastPathComponent) capture \(summary.id) \(hook)"
        guard !origins.isEmpty else { throw SNMFError.empty("\(source) holds no rows but position 0 and special tokens") }
        return try SNMFRows(matrix: Tensor(shape: [origins.count, width], scalars: scalars), source: source,
                            hook: hook, origins: origins, prompts: prompts, leftOut: filter.leftOut)
    }
}
