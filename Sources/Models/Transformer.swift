import Formats
import Linalg

/// A decoder-only transformer (Llama family or GPT-2) whose forward pass can be read and
/// written at every ``HookPoint``.
///
/// The pass packs the new tokens of every sequence into one `[tokens, dModel]` matrix, so
/// all linear layers are single sgemm calls across the batch; attention runs per sequence
/// and head against that sequence's ``KVCache``. Weights are immutable, so one model can
/// serve many passes; each pass allocates its own scratch.
public final class Transformer: Sendable {
    public let config: TransformerConfig
    public let weights: TransformerWeights
    /// RoPE inverse frequencies, `[headDim / 2]` (empty for learned positions).
    let invFreq: [Float]

    /// A model from a config and weights whose shapes match it.
    public init(config: TransformerConfig, weights: TransformerWeights, file: String = "<memory>") throws {
        try weights.validate(against: config, file: file)
        if let cap = config.pass.finalLogitSoftcap {
            precondition(cap > 0 && cap.isFinite, "final logit soft-cap \(cap): must be positive")
        }
        self.config = config
        self.weights = weights
        invFreq = config.positionKind == .rotary ? config.ropeInverseFrequencies() : []
    }

    /// Which rows of the final residual stream are turned into logits.
    public enum LogitRows: Sendable {
        /// None (activations only: cheapest).
        case none
        /// The last new position of each sequence.
        case last
        /// Every new position.
        case all
        /// The last new position of each sequence, packed into one `[sequences, vocabSize]`
        /// tensor, `logits[0]`: no per-sequence copies, for sweeps over thousands of runs.
        case lastPacked
    }

    /// What a forward pass returns.
    public struct Output: Sendable {
        /// Per sequence: `[1, vocabSize]` for `.last`, `[newTokens, vocabSize]` for `.all`,
        /// nothing for `.none`; one `[sequences, vocabSize]` tensor for `.lastPacked`.
        public var logits: [Tensor]
    }

    /// Where one sequence's new tokens sit in the packed batch.
    struct Span {
        let sequence: Int
        /// First row in the packed `[tokens, width]` buffers.
        let row: Int
        /// New tokens.
        let count: Int
        /// Positions already in the sequence's cache; the first new token is at this position.
        let past: Int
        var positions: Range<Int> { past..<(past + count) }
    }

    /// Runs `sequences` (token ids; lengths may differ) through the model.
    ///
    /// - Parameters:
    ///   - caches: one per sequence to continue from (and extend), or nil for a fresh pass.
    ///   - hooks: called at their points for each sequence; see ``HookContext`` for positions.
    ///   - logits: which rows to unembed.
    /// - Throws: ``ModelError`` for empty sequences, ids outside the vocabulary, sequences
    ///   longer than the context, or hooks that change an activation's shape.
    public func forward(_ sequences: [[Int]], caches: [KVCache]? = nil, hooks: HookSet = HookSet(),
                        logits: LogitRows = .last) throws -> Output {
        let spans = try makeSpans(sequences, caches: caches)
        let caches = caches ?? spans.map { KVCache(config: config, reserve: $0.count) }
        for span in spans { caches[span.sequence].reserve(extra: span.count) }
        let n = spans.reduce(0) { $0 + $1.count }
        var pass = Pass(model: self, spans: spans, tokens: sequences.flatMap { $0 }, rows: n,
                        caches: caches, hooks: hooks)
        try pass.embed()
        try runBlocks(from: 0, in: &pass, logits: logits, hooks: hooks)
        for span in spans { caches[span.sequence].advance(by: span.count) }
        return Output(logits: try pass.finish(logits))
    }

    /// Runs the embeddings and blocks `0...layer`, then stops: no block above `layer`, no
    /// final norm, no unembedding, and no hook above `layer` is called. For captures that
    /// need nothing deeper; the activations at or below `layer` are bit for bit those of a
    /// full pass. `layer` -1 runs the embeddings only.
    ///
    /// Each sequence gets a temporary KV cache (a partial pass cannot extend a caller's
    /// cache, whose layers above `layer` would stay behind).
    /// - Throws: as ``forward(_:caches:hooks:logits:)``.
    public func forward(_ sequences: [[Int]], hooks: HookSet = HookSet(), through layer: Int) throws {
        precondition(layer >= -1 && layer < config.nLayers, "forward through layer \(layer) of \(config.nLayers)")
        let spans = try makeSpans(sequences, caches: nil)
        let caches = spans.map { KVCache(config: config, reserve: $0.count) }
        let n = spans.reduce(0) { $0 + $1.count }
        var pass = Pass(model: self, spans: spans, tokens: sequences.flatMap { $0 }, rows: n,
                        caches: caches, hooks: hooks)
        try pass.embed()
        for l in 0..<(layer + 1) { try pass.block(l) }
    }

    /// Runs layers `layer...` on given residual-stream rows, skipping the embedding and the
    /// layers below: the residual entering block `layer` is `residuals[s]` (`[newTokens, dModel]`)
    /// for sequence `s`, whose earlier positions' keys and values come from `caches[s]`.
    ///
    /// This is how sweeps avoid recomputation (causal tracing, patching): the clean or
    /// corrupted run is computed once with a cache; a run that changes position `t` at layer
    /// `layer` copies that cache truncated to `t` positions and resumes here with the rows from
    /// `t` on. Only the cache's layers `layer...` are read and written; `tokens` give the
    /// sequences' lengths and are not embedded.
    ///
    /// `given` MLP outputs replace the first row's `mlp_out` of every sequence at their layers,
    /// whose MLPs then run on the other rows only (``GivenMLPOutputs``).
    public func forward(resuming layer: Int, residuals: [Tensor], caches: [KVCache],
                        hooks: HookSet = HookSet(), logits: LogitRows = .last,
                        given: GivenMLPOutputs = GivenMLPOutputs()) throws -> Output {
        precondition(layer >= 0 && layer <= config.nLayers, "resume at layer \(layer) of \(config.nLayers)")
        precondition(residuals.count == caches.count, "\(residuals.count) residuals but \(caches.count) caches")
        for (i, r) in residuals.enumerated() where r.rank != 2 || r.shape[1] != config.dModel {
            throw ModelError.hookShape(hook: "residual \(i)", expected: [r.shape.first ?? 0, config.dModel], found: r.shape)
        }
        let placeholder = residuals.map { [Int](repeating: 0, count: $0.shape[0]) }
        let spans = try makeSpans(placeholder, caches: caches)
        for span in spans { caches[span.sequence].reserve(extra: span.count) }
        let n = spans.reduce(0) { $0 + $1.count }
        try given.validate(config: config, positions: spans.map(\.past))
        var pass = Pass(model: self, spans: spans, tokens: placeholder.flatMap { $0 }, rows: n,
                        caches: caches, hooks: hooks, given: given)
        for (span, r) in zip(spans, residuals) { pass.x.write(r.scalars, at: span.row * config.dModel) }
        try runBlocks(from: layer, in: &pass, logits: logits, hooks: hooks)
        for span in spans { caches[span.sequence].advance(by: span.count) }
        return Output(logits: try pass.finish(logits))
    }

    /// The MLP half of block `layer` on residual rows that already hold the attention output
    /// (`resid_mid`, `[rows, dModel]`): returns `resid_post = x + MLP(norm(x))`, the same
    /// arithmetic as inside a pass, without hooks. Sweeps use it when a restored row is the
    /// only one a block changes (causal tracing's attention windows).
    public func mlpHalf(layer: Int, residualMid: Tensor) throws -> Tensor {
        precondition(layer >= 0 && layer < config.nLayers, "layer \(layer) of \(config.nLayers)")
        guard residualMid.rank == 2, residualMid.shape[1] == config.dModel, residualMid.shape[0] > 0 else {
            throw ModelError.hookShape(hook: "residual", expected: [residualMid.shape.first ?? 0, config.dModel],
                                       found: residualMid.shape)
        }
        let n = residualMid.shape[0]
        // One span over all rows: positions only matter to attention, which does not run here.
        var pass = Pass(model: self, spans: [Span(sequence: 0, row: 0, count: n, past: 0)],
                        tokens: [Int](repeating: 0, count: n), rows: n, caches: [], hooks: HookSet())
        pass.x.write(residualMid.scalars, at: 0)
        try pass.mlp(layer)
        return Tensor(shape: [n, config.dModel], scalars: pass.x.array(0..<(n * config.dModel)))
    }

    /// Blocks `first...`; the last one only for the last rows when nothing else is needed.
    private func runBlocks(from first: Int, in pass: inout Pass, logits: LogitRows, hooks: HookSet) throws {
        let top = config.nLayers - 1
        let lastRowsOnly: Bool
        switch logits {
        case .last, .lastPacked:
            lastRowsOnly = !hooks.table.keys.contains { $0.layer == top || $0 == .finalNorm }
                && pass.given.sources[top] == nil
        case .none, .all:
            lastRowsOnly = false
        }
        for l in first..<config.nLayers {
            if l == top && lastRowsOnly { try pass.lastBlockForLastRows(l) } else { try pass.block(l) }
        }
    }

    private func makeSpans(_ sequences: [[Int]], caches: [KVCache]?) throws -> [Span] {
        if let caches, caches.count != sequences.count {
            preconditionFailure("forward: \(sequences.count) sequences but \(caches.count) caches")
        }
        var spans: [Span] = []
        var row = 0
        for (s, tokens) in sequences.enumerated() {
            guard !tokens.isEmpty else { throw ModelError.emptySequence(sequence: s) }
            let past = caches?[s].count ?? 0
            if past + tokens.count > config.contextLength {
                throw ModelError.promptTooLong(sequence: s, tokens: past + tokens.count,
                                               contextLength: config.contextLength)
            }
            if let (i, t) = tokens.enumerated().first(where: { $0.element < 0 || $0.element >= config.vocabSize }) {
                throw ModelError.tokenOutOfRange(sequence: s, position: past + i, token: t,
                                                 vocabSize: config.vocabSize)
            }
            spans.append(Span(sequence: s, row: row, count: tokens.count, past: past))
            row += tokens.count
        }
        return spans
    }
}

extension Transformer {
    /// Number of weights (a tied unembedding counted once).
    public var parameterCount: Int {
        let w = weights
        var n = w.tokenEmbedding.count + (w.positionEmbedding?.count ?? 0) + w.finalNorm.count
            + (w.finalNormBias?.count ?? 0) + (config.tiedEmbeddings ? 0 : w.unembed.count)
        for l in w.layers {
            let vectors: [Tensor?] = [l.attnNorm, l.attnNormBias, l.bq, l.bk, l.bv, l.bo, l.mlpNorm, l.mlpNormBias, l.bUp, l.bDown]
            let matrices: [WeightMatrix?] = [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]
            n += vectors.reduce(0) { $0 + ($1?.count ?? 0) } + matrices.reduce(0) { $0 + ($1?.count ?? 0) }
        }
        return n
    }
}
