import Foundation
import Linalg
import Models

/// Settings of an ``SAEEvaluation``.
public struct SAEEvaluationConfig: Sendable {
    /// The hook point whose activation the SAE reads (and, for a plain SAE, replaces).
    public var hook: HookPoint
    /// A transcoder's output hook (e.g. `blocks.8.hook_mlp_out` for input `blocks.8.mlp.hook_in`):
    /// the activation replaced by the transcoder's prediction from `hook` in the same pass, and
    /// the one zero and mean ablation replace. Nil for a plain SAE.
    public var targetHook: HookPoint?
    /// Replace and measure position 0 too (default false: the attention sink, whose norm is
    /// ~100x the others, stays as it is in every run and out of every metric).
    public var includesPosition0 = false
    /// Most sequences and most tokens per forward pass.
    public var batchSize = 32
    public var batchTokens = 1024
    /// A latent firing on more than this share of the rows is dense.
    public var denseThreshold = 0.1
    /// When the residual stream entering the hook's block, for every token, fits in this many
    /// bytes (default 1 GiB: 466k tokens of width 576), the mean pass keeps it and the clean
    /// pass resumes there too; otherwise the clean pass starts from the embeddings.
    public var residualCacheBytes = 1 << 30

    public init(hook: HookPoint, targetHook: HookPoint? = nil, includesPosition0: Bool = false) {
        self.hook = hook
        self.targetHook = targetHook
        self.includesPosition0 = includesPosition0
    }
}

/// An SAE evaluated inside the model's forward pass, with SAELens's definitions
/// (`sae_lens/evals.py`): per batch of sequences, one clean pass (logits of every position,
/// the activation at the hook), the SAE's reconstruction of the evaluated rows, and three
/// passes in which the hook's activation is replaced (by the reconstruction, by zeros, by
/// its mean over all evaluated rows), each compared with the clean logits: cross-entropy of
/// the next token and KL from the clean distribution.
///
/// Position 0 stays untouched in the replaced passes and out of every metric unless
/// ``SAEEvaluationConfig/includesPosition0``. Cross-entropy scores the predictions made at
/// the evaluated positions (each sequence's last has no target); KL every evaluated position.
///
/// Cost: every run shares everything below the hook, so for `blocks.L.*` hooks one pass
/// through block L (which also sums the mean) keeps the residual stream entering block L and
/// the clean and replaced passes resume there: at block L of n, a token costs about
/// `(L + 1)/n + 4 (n - L)/n` forward passes and four unembeddings (2.5 passes at block 15 of
/// 30). When those residuals exceed ``SAEEvaluationConfig/residualCacheBytes`` the clean pass
/// runs from the embeddings instead (`1 + (L + 1)/n + 3 (n - L)/n`).
public enum SAEEvaluation {
    /// How far an evaluation is.
    public struct Progress: Sendable {
        /// `mean` (the pass computing the mean activation) or `evaluate`.
        public var stage: String
        /// Sequence tokens run in this stage so far, and in all.
        public var tokens: Int, totalTokens: Int
        /// Seconds since the stage began.
        public var seconds: Double
        /// The running `ce_loss_score` (evaluate stage).
        public var ceLossScore: Double?
    }

    /// Width of one row of the activation at `hook` (per-head points: all heads flattened, as
    /// SAELens reads `hook_z`).
    /// - Throws: ``Models/ModelError`` for a point the model lacks or an attention pattern.
    public static func hookWidth(_ hook: HookPoint, config: TransformerConfig) throws -> Int {
        if case .pattern = hook {
            throw ModelError.unsupportedHookEdit(hook: hook.name, reason: "attention patterns are [heads, query, key], not rows an SAE reads")
        }
        guard config.hasHookPoint(hook) else { throw ModelError.unknownHook(name: hook.name, suggestions: []) }
        return config.shape(of: hook, positions: 1).dropFirst().reduce(1, *)
    }

    /// Checks that `sae` reads rows of the activation at `hook` and, for a transcoder, writes
    /// rows of `target`, a later point of the same block.
    /// - Throws: ``SAEError/hookWidthMismatch(hook:hookWidth:saeWidth:)``, ``SAEError/wrongHook(_:)``,
    ///   or as ``hookWidth(_:config:)``.
    public static func check(_ sae: any SparseAutoencoder, hook: HookPoint, target: HookPoint? = nil, config: TransformerConfig) throws {
        let width = try hookWidth(hook, config: config)
        guard width == sae.width else { throw SAEError.hookWidthMismatch(hook: hook.name, hookWidth: width, saeWidth: sae.width) }
        switch (sae.isTranscoder, target) {
        case (false, nil): return
        case (false, let t?): throw SAEError.wrongHook("a plain SAE reconstructs the activation it reads; it has no output hook (\(t.name)) to replace")
        case (true, nil): throw SAEError.wrongHook("a transcoder needs its output hook (e.g. blocks.L.hook_mlp_out) besides its input hook \(hook.name)")
        case (true, let t?):
            let outWidth = try hookWidth(t, config: config)
            guard outWidth == sae.parameters.outputWidth else {
                throw SAEError.hookWidthMismatch(hook: t.name, hookWidth: outWidth, saeWidth: sae.parameters.outputWidth)
            }
            guard t.layer != nil, t.layer == hook.layer, hook < t else {
                throw SAEError.wrongHook("a transcoder's output hook \(t.name) must come after its input hook \(hook.name) in the same block")
            }
        }
    }

    /// The sequences to evaluate: the leading ones up to `skipTokens` tokens left out (text a
    /// training run used), then whole sequences up to the one reaching `maxTokens`.
    public static func select(_ sequences: [[Int]], skipTokens: Int = 0, maxTokens: Int? = nil) -> [[Int]] {
        var skipped = 0, start = 0
        while start < sequences.count && skipped < skipTokens { skipped += sequences[start].count; start += 1 }
        var out: [[Int]] = [], total = 0
        for s in sequences[start...] {
            if let maxTokens, total >= maxTokens { break }
            out.append(s)
            total += s.count
        }
        return out
    }

    /// Evaluates `sae` at `config.hook` on `sequences` (token ids): the sums of every batch,
    /// added in batch order.
    /// - Throws: ``SAEError/hookWidthMismatch(hook:hookWidth:saeWidth:)`` when the SAE does not
    ///   read the hook's rows; ``SAEError/noRows(_:)`` when no sequence is long enough to score
    ///   a prediction; ``Models/ModelError`` from the pass (e.g. a sequence longer than the context).
    public static func run(_ sae: any SparseAutoencoder, model: Transformer, sequences: [[Int]], config: SAEEvaluationConfig,
                           progress: (Progress) -> Void = { _ in }) throws -> SAEEvaluationResult {
        var totals = SAEEvaluationTotals(width: sae.width, latents: sae.latents)
        try evaluate(sae, model: model, sequences: sequences, config: config, only: nil, progress: progress) { _, part in totals.add(part) }
        return SAEEvaluationResult(totals: totals, hook: hookName(config), architecture: architectureName(sae), sequences: sequences.count,
                                   includesPosition0: config.includesPosition0, denseThreshold: config.denseThreshold)
    }

    /// How many batches an evaluation of `sequences` runs (a sharded evaluation's items):
    /// consecutive groups of at most `config.batchSize` sequences and `config.batchTokens` tokens.
    public static func batchCount(_ sequences: [[Int]], config: SAEEvaluationConfig) -> Int {
        batchRanges(sequences, size: config.batchSize, tokens: config.batchTokens).count
    }

    /// The replaced hook as a result names it (`in -> out` for a transcoder).
    public static func hookName(_ config: SAEEvaluationConfig) -> String {
        config.targetHook.map { "\(config.hook.name) -> \($0.name)" } ?? config.hook.name
    }

    /// The architecture as a result names it.
    public static func architectureName(_ sae: any SparseAutoencoder) -> String {
        sae.isTranscoder ? sae.architecture + " transcoder" : sae.architecture
    }

    /// The mean pass over every sequence (the mean-ablation row is the whole text's mean),
    /// then the batches whose index `only` holds (all when nil), in order, each summed into
    /// its own ``SAEEvaluationTotals`` handed to `batchDone` with its index.
    /// - Throws: as ``run(_:model:sequences:config:progress:)``, and what `batchDone` throws.
    public static func evaluate(_ sae: any SparseAutoencoder, model: Transformer, sequences: [[Int]], config: SAEEvaluationConfig,
                                only: Set<Int>?, progress: (Progress) -> Void = { _ in },
                                batchDone: (Int, SAEEvaluationTotals) throws -> Void) throws {
        try check(sae, hook: config.hook, target: config.targetHook, config: model.config)
        guard config.batchSize >= 1, config.batchTokens >= 1 else {
            throw SAEError.badSize("batch of \(config.batchSize) sequences and \(config.batchTokens) tokens: both must be at least 1")
        }
        let first = config.includesPosition0 ? 0 : 1
        guard sequences.contains(where: { $0.count >= first + 2 }) else {
            throw SAEError.noRows("no next-token prediction to score in \(sequences.count) sequence(s): one needs at least \(first + 2) tokens"
                                  + (first == 1 ? " (position 0 is left out)" : ""))
        }
        let batches = batchRanges(sequences, size: config.batchSize, tokens: config.batchTokens)
        let total = sequences.reduce(0) { $0 + $1.count }
        let (bytes, overflow) = total.multipliedReportingOverflow(by: model.config.dModel * MemoryLayout<Float>.size)
        let keep = config.hook.layer != nil && !overflow && bytes <= config.residualCacheBytes
        let (mean, residuals) = try meanRow(sae.parameters.outputWidth, model: model, sequences: sequences, batches: batches, config: config, total: total,
                                            keepResiduals: keep, progress: progress)
        var running = SAEEvaluationTotals(width: sae.width, latents: sae.latents)
        let start = DispatchTime.now().uptimeNanoseconds
        let mine = batches.indices.filter { only?.contains($0) ?? true }
        let tokens = mine.reduce(0) { $0 + sequences[batches[$1]].reduce(0) { $0 + $1.count } }
        var done = 0
        for b in mine {
            let range = batches[b], batch = Array(sequences[range])
            var part = SAEEvaluationTotals(width: sae.width, latents: sae.latents)
            try evaluate(batch, residuals: residuals.map { Array($0[range]) }, sae: sae, model: model, hook: config.hook,
                         target: config.targetHook, first: first, mean: mean, into: &part)
            try batchDone(b, part)
            running.add(part)
            done += batch.reduce(0) { $0 + $1.count }
            let score = SAEEvaluationResult.score(ablation: running.ceZero, sae: running.ceSAE, clean: running.ceClean)
            progress(Progress(stage: "evaluate", tokens: done, totalTokens: tokens, seconds: seconds(since: start), ceLossScore: score))
        }
    }

    /// Consecutive groups of at most `size` sequences and (unless one sequence is longer) `tokens` tokens.
    static func batchRanges(_ sequences: [[Int]], size: Int, tokens: Int) -> [Range<Int>] {
        var out: [Range<Int>] = [], start = 0, count = 0
        for (i, s) in sequences.enumerated() {
            if i > start && (i - start >= size || count + s.count > tokens) {
                out.append(start..<i)
                (start, count) = (i, 0)
            }
            count += s.count
        }
        if start < sequences.count { out.append(start..<sequences.count) }
        return out
    }

    /// The mean activation row at the replaced hook (a transcoder's output hook) over the
    /// evaluated rows, from passes that stop after the hook's block, and (`keepResiduals`, `blocks.L.*` hooks) every sequence's
    /// residual stream entering block L.
    static func meanRow(_ width: Int, model: Transformer, sequences: [[Int]], batches: [Range<Int>], config: SAEEvaluationConfig,
                        total: Int, keepResiduals: Bool, progress: (Progress) -> Void) throws -> (mean: [Float], residuals: [Tensor]?) {
        let first = config.includesPosition0 ? 0 : 1
        var sum = [Double](repeating: 0, count: width), n = 0, done = 0
        var residuals: [Tensor]? = keepResiduals ? [] : nil
        let start = DispatchTime.now().uptimeNanoseconds
        for range in batches {
            let batch = Array(sequences[range])
            let box = RowBox(count: batch.count)
            var hooks = HookSet()
            hooks.observe(config.targetHook ?? config.hook) { act, ctx in box.rows[ctx.sequence] = act.scalars }
            if let layer = config.hook.layer {
                if keepResiduals { hooks.observe(.residPre(layer)) { act, ctx in box.residuals[ctx.sequence] = act } }
                try model.forward(batch, hooks: hooks, through: layer)
                if keepResiduals { residuals! += box.residuals.compactMap { $0 } }
            } else if config.hook == .finalNorm {
                _ = try model.forward(batch, hooks: hooks, logits: .none)
            } else {
                try model.forward(batch, hooks: hooks, through: -1)
            }
            for rows in box.rows {
                let count = rows.count / width
                guard count > first else { continue }
                for p in first..<count { for j in 0..<width { sum[j] += Double(rows[p * width + j]) } }
                n += count - first
            }
            done += batch.reduce(0) { $0 + $1.count }
            progress(Progress(stage: "mean", tokens: done, totalTokens: total, seconds: seconds(since: start), ceLossScore: nil))
        }
        guard residuals == nil || residuals!.count == sequences.count else {
            throw ModelError.hookShape(hook: "residual cache", expected: [sequences.count], found: [residuals!.count])
        }
        return (sum.map { Float($0 / Double(max(n, 1))) }, residuals)
    }

    /// One batch: the clean pass (resumed at the hook's block from `residuals` when given),
    /// the reconstruction of its evaluated rows, the three replaced passes, and their sums
    /// added to `totals`. A transcoder reads `hook` and its prediction replaces `target`: the
    /// input at `hook` is the same in the clean and the replaced pass (it comes first in the
    /// block), so the clean pass's rows give the prediction.
    static func evaluate(_ batch: [[Int]], residuals: [Tensor]?, sae: any SparseAutoencoder, model: Transformer, hook: HookPoint,
                         target: HookPoint?, first: Int, mean: [Float], into totals: inout SAEEvaluationTotals) throws {
        let width = sae.width, outWidth = sae.parameters.outputWidth
        let box = RowBox(count: batch.count), outBox = RowBox(count: batch.count)
        var clean = HookSet()
        clean.observe(hook) { act, ctx in box.rows[ctx.sequence] = act.scalars }
        if let target { clean.observe(target) { act, ctx in outBox.rows[ctx.sequence] = act.scalars } }
        let cleanLogits: [Tensor]
        if let layer = hook.layer, let residuals {
            box.residuals = residuals
            let caches = batch.map { KVCache(config: model.config, reserve: $0.count) }
            cleanLogits = try model.forward(resuming: layer, residuals: residuals, caches: caches, hooks: clean, logits: .all).logits
        } else {
            if let layer = hook.layer { clean.observe(.residPre(layer)) { act, ctx in box.residuals[ctx.sequence] = act } }
            cleanLogits = try model.forward(batch, hooks: clean, logits: .all).logits
        }
        let cleanLSE = cleanLogits.map(LogitRowMeasures.logSumExp)
        // The evaluated rows of every sequence, reconstructed in one encode and decode.
        var x: [Float] = [], y: [Float] = [], counts: [Int] = []
        for (s, tokens) in batch.enumerated() {
            counts.append(max(0, tokens.count - first))
            if tokens.count > first { x += box.rows[s][(first * width)..<(tokens.count * width)] }
            if tokens.count > first, target != nil { y += outBox.rows[s][(first * outWidth)..<(tokens.count * outWidth)] }
        }
        let n = x.count / width
        var reconstruction: [[Float]] = counts.map { _ in [] }
        if n > 0 {
            let input = Tensor(shape: [n, width], scalars: x)
            let f = try sae.encode(input)
            let xHat = try sae.output(input)
            totals.addRows(x: target == nil ? x : y, f: f.scalars, xHat: xHat.scalars, rows: n)
            var offset = 0
            for (s, c) in counts.enumerated() {
                reconstruction[s] = Array(xHat.scalars[(offset * outWidth)..<((offset + c) * outWidth)])
                offset += c
            }
        }
        for (s, tokens) in batch.enumerated() where tokens.count > first + 1 {
            totals.ceClean += LogitRowMeasures.crossEntropy(cleanLogits[s], lse: cleanLSE[s], rows: first..<(tokens.count - 1),
                                                            targets: tokens[(first + 1)...]).reduce(0, +)
            totals.ceCount += tokens.count - 1 - first
        }
        for s in batch.indices where batch[s].count > first { totals.klCount += batch[s].count - first }
        let replacements: [(Replacement, WritableKeyPath<SAEEvaluationTotals, Double>, WritableKeyPath<SAEEvaluationTotals, Double>)] = [
            (.rows(reconstruction), \.ceSAE, \.klSAE),
            (.constant([Float](repeating: 0, count: outWidth)), \.ceZero, \.klZero),
            (.constant(mean), \.ceMean, \.klMean),
        ]
        for (replacement, ce, kl) in replacements {
            let hooks = replacing(target ?? hook, from: first, width: outWidth, with: replacement)
            let logits: [Tensor]
            if let layer = hook.layer {
                let caches = batch.map { KVCache(config: model.config, reserve: $0.count) }
                let residuals = box.residuals.compactMap { $0 }
                guard residuals.count == batch.count else {
                    throw ModelError.hookShape(hook: HookPoint.residPre(layer).name, expected: [batch.count], found: [residuals.count])
                }
                logits = try model.forward(resuming: layer, residuals: residuals, caches: caches, hooks: hooks, logits: .all).logits
            } else {
                logits = try model.forward(batch, hooks: hooks, logits: .all).logits
            }
            for (s, tokens) in batch.enumerated() where tokens.count > first {
                let lse = LogitRowMeasures.logSumExp(logits[s])
                totals[keyPath: kl] += LogitRowMeasures.klDivergence(base: cleanLogits[s], lseBase: cleanLSE[s], other: logits[s], lseOther: lse,
                                                                     rows: first..<tokens.count).reduce(0, +)
                guard tokens.count > first + 1 else { continue }
                totals[keyPath: ce] += LogitRowMeasures.crossEntropy(logits[s], lse: lse, rows: first..<(tokens.count - 1),
                                                                     targets: tokens[(first + 1)...]).reduce(0, +)
            }
        }
    }

    /// What a replaced pass writes at the hook: per sequence, its evaluated rows; or one row everywhere.
    enum Replacement {
        case rows([[Float]])
        case constant([Float])
    }

    /// A hook set replacing the hook's rows at positions `first...` (position `first + r` of
    /// sequence `s` gets row `r` of `rows[s]`, or the constant row).
    static func replacing(_ hook: HookPoint, from first: Int, width: Int, with replacement: Replacement) -> HookSet {
        var hooks = HookSet()
        hooks.modify(hook) { act, ctx in
            guard act.count == ctx.positions.count * width else {
                throw ModelError.hookShape(hook: hook.name, expected: [ctx.positions.count, width], found: act.shape)
            }
            act.withUnsafeMutableBufferPointer { dst in
                for p in ctx.positions where p >= first {
                    let i = (p - ctx.positions.lowerBound) * width
                    switch replacement {
                    case .constant(let row):
                        for j in 0..<width { dst[i + j] = row[j] }
                    case .rows(let rows):
                        let (source, r) = (rows[ctx.sequence], (p - first) * width)
                        for j in 0..<width { dst[i + j] = source[r + j] }
                    }
                }
            }
        }
        return hooks
    }

    /// What the hooks of one pass saw, per sequence.
    final class RowBox {
        /// The hook's activation, flattened.
        var rows: [[Float]]
        /// The residual stream entering the hook's block.
        var residuals: [Tensor?]
        init(count: Int) {
            rows = [[Float]](repeating: [], count: count)
            residuals = [Tensor?](repeating: nil, count: count)
        }
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
