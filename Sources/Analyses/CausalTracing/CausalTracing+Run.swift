import Foundation
import Linalg
import Models

extension CausalTracing {
    /// Traces `tokens` with the subject at `subject`.
    ///
    /// - Parameters:
    ///   - target: the token whose probability is measured; nil for the clean run's top-1.
    ///   - noiseStd: standard deviation of the drawn noise (see ``NoiseLevel``).
    ///   - noise: `[samples, subject tokens, dModel]` additive noise to use instead of drawing it.
    /// - Throws: ``AnalysisError`` for an empty subject or wrongly shaped noise; ``ModelError``
    ///   for prompts the model cannot run.
    public func run(tokens: [Int], subject: Range<Int>, target: Int? = nil,
                    noiseStd: Float, noise: Tensor? = nil) throws -> Result {
        let c = model.config, d = c.dModel, n = tokens.count
        guard !subject.isEmpty, subject.lowerBound >= 0, subject.upperBound <= n else { throw AnalysisError.emptySubject }
        let noise = try noise ?? drawNoise(subjectLength: subject.count, std: noiseStd)
        let samples = noise.shape[0]
        guard noise.shape == [samples, subject.count, d], samples > 0 else {
            throw AnalysisError.noiseShape(expected: [config.samples, subject.count, d], found: noise.shape)
        }

        // Clean run: every activation a restoration can copy.
        let clean = ActivationCache()
        var capture = HookSet()
        capture.capture((0..<c.nLayers).flatMap { [.residPost($0), .mlpOut($0), .attnOut($0)] }, into: clean)
        let cleanLogits = try model.forward([tokens], hooks: capture).logits[0].scalars
        let target = target ?? Sampler.argmax(cleanLogits)
        let cleanP = targetProbability(cleanLogits, target: target)

        // Corrupted runs, one sequence per noise sample, with caches for resuming.
        let corrupted = ActivationCache()
        var noising = HookSet()
        noising.modify(.embed) { act, ctx in
            let width = d * subject.count
            act.withUnsafeMutableBufferPointer { a in
                noise.withUnsafeBufferPointer { z in
                    for i in 0..<width { a[subject.lowerBound * d + i] += z[ctx.sequence * width + i] }
                }
            }
        }
        noising.capture((0..<c.nLayers).flatMap { [.residPre($0), .residMid($0), .residPost($0)] }, into: corrupted)
        let caches = (0..<samples).map { _ in KVCache(config: c, reserve: n) }
        let corruptedLogits = try model.forward(Array(repeating: tokens, count: samples), caches: caches, hooks: noising).logits
        let corruptedP = corruptedLogits.map { targetProbability($0.scalars, target: target) }.reduce(0, +) / Double(samples)

        var result = Result(config: config, tokens: tokens, subject: subject, target: target,
                            noiseStd: noiseStd, cleanProbability: cleanP, corruptedProbability: corruptedP,
                            grids: [:], rowLayersComputed: (1 + samples) * n * c.nLayers, rowLayersNaive: 0)
        let wanted = Set(config.layers ?? Array(0..<c.nLayers))
        for kind in config.kinds {
            var grid: [[Double]] = []
            // Window runs of the previous layer, when this layer's window starts at the same
            // layer (windows clipped at layer 0): the residual rows entering block `carried.layer`,
            // where the two layers' restorations first differ.
            var carried: (layer: Int, rows: [Tensor])? = nil
            for layer in 0..<c.nLayers {
                guard wanted.contains(layer) else {
                    grid.append([Double](repeating: .nan, count: n))
                    carried = nil
                    continue
                }
                var (start, hooks) = restoration(kind, layer: layer, clean: clean)
                var residuals: [Tensor]
                if let carried {
                    start = carried.layer
                    residuals = carried.rows
                } else {
                    residuals = try restoredRows(kind, layer: layer, start: start, clean: clean,
                                                 corrupted: corrupted, tokens: n, samples: samples)
                }
                carried = nil
                // Where the next layer's window runs can branch off these ones.
                var carryAt: Int? = nil
                if kind != .state, layer + 1 < c.nLayers, wanted.contains(layer + 1) {
                    let here = window(around: layer), next = window(around: layer + 1)
                    if next.lowerBound == here.lowerBound, here.upperBound < c.nLayers { carryAt = here.upperBound }
                }
                // One run per (position, sample): residual rows from the restored position on,
                // keys and values before it from that sample's corrupted cache.
                var runCaches: [KVCache] = []
                for t in 0..<n {
                    for s in 0..<samples { runCaches.append(caches[s].copy(prefix: t, reserve: n - t, fromLayer: start)) }
                }
                let batches = batchRuns(count: residuals.count)
                let outcomes = try runLanes(batches.count, lanes: config.lanes) { b in
                    let runs = batches[b]
                    let collected = RowCollector(count: runs.count)
                    var batchHooks = hooks
                    if let carryAt {
                        // Hooks see sequence indices within the batch.
                        batchHooks.observe(.residPre(carryAt)) { rows, ctx in collected.rows[ctx.sequence] = rows }
                    }
                    let logits = try model.forward(resuming: start, residuals: runs.map { residuals[$0] },
                                                   caches: runs.map { runCaches[$0] }, hooks: batchHooks,
                                                   logits: .lastPacked).logits[0]
                    return (targetProbabilities(logits, target: target), collected.rows)
                }
                // Back in run order.
                var probabilities = [Double](repeating: 0, count: residuals.count)
                var carriedRows = [Tensor?](repeating: nil, count: residuals.count)
                for (runs, outcome) in zip(batches, outcomes) {
                    for (i, run) in runs.enumerated() {
                        probabilities[run] = outcome.0[i]
                        carriedRows[run] = outcome.1[i]
                    }
                }
                if let carryAt { carried = (carryAt, carriedRows.map { $0! }) }
                grid.append((0..<n).map { t in
                    (0..<samples).map { s in probabilities[t * samples + s] }.reduce(0, +) / Double(samples)
                })
                result.rowLayersComputed += samples * (n * (n + 1) / 2) * (c.nLayers - start)
                result.rowLayersNaive += samples * n * n * c.nLayers
            }
            result.grids[kind] = grid
        }
        return result
    }

    /// Where a restoration run of `kind` at `layer` resumes, and the hooks that restore the
    /// clean MLP or attention outputs at the run's first position for the window's layers
    /// from there on. (For `state`, and for the window's first layer, the restored row is
    /// written into the resumed residual instead.)
    func restoration(_ kind: Kind, layer: Int, clean: ActivationCache) -> (Int, HookSet) {
        switch kind {
        case .state:
            return (layer + 1, HookSet())
        case .mlp, .attention:
            let window = self.window(around: layer)
            // Runs resume above the window's first layer; the caller builds the restored row.
            let start = window.lowerBound + 1
            var hooks = HookSet()
            for l in window where l >= start {
                let point: HookPoint = kind == .mlp ? .mlpOut(l) : .attnOut(l)
                let source = clean.tensor(point)!
                hooks.modify(point) { act, ctx in
                    // Row 0 of every run is its restored position.
                    let t = ctx.positions.lowerBound, w = act.shape[1]
                    act.scalars.replaceSubrange(0..<w, with: source.scalars[(t * w)..<((t + 1) * w)])
                }
            }
            return (start, hooks)
        }
    }

    /// The residual rows each restoration run of `kind` at `layer` resumes with at `start`,
    /// one run per (position t, sample s) at index `t * samples + s`: that sample's corrupted
    /// rows from t on, with row t restored.
    private func restoredRows(_ kind: Kind, layer: Int, start: Int, clean: ActivationCache,
                              corrupted: ActivationCache, tokens n: Int, samples: Int) throws -> [Tensor] {
        let d = model.config.dModel
        // Attention windows: the restored row's output of the window's first block, for every
        // (position, sample) at once.
        var attentionRows: Tensor? = nil
        if kind == .attention {
            let first = start - 1, attn = clean.tensor(.attnOut(first))!
            var mids: [Float] = []
            mids.reserveCapacity(n * samples * d)
            for t in 0..<n {
                let out = attn.row(t)
                for s in 0..<samples {
                    let pre = corrupted.tensor(.residPre(first), sequence: s)!.row(t)
                    mids += (0..<d).map { pre[$0] + out[$0] }
                }
            }
            attentionRows = try model.mlpHalf(layer: first, residualMid: Tensor(shape: [n * samples, d], scalars: mids))
        }
        var residuals: [Tensor] = []
        for t in 0..<n {
            for s in 0..<samples {
                var rows: Tensor
                switch kind {
                case .state:
                    // The clean row at `layer`'s output; the run resumes above it.
                    rows = corrupted.tensor(.residPost(layer), sequence: s)!.rows(t..<n)
                    rows.scalars.replaceSubrange(0..<d, with: clean.tensor(.residPost(layer))!.row(t))
                case .mlp:
                    // The window's first MLP output restored at t changes only row t of that
                    // block's output: corrupted residual-mid plus the clean MLP output (the same
                    // addition the block does), so the run resumes above.
                    let first = start - 1
                    rows = corrupted.tensor(.residPost(first), sequence: s)!.rows(t..<n)
                    let mid = corrupted.tensor(.residMid(first), sequence: s)!.row(t)
                    let out = clean.tensor(.mlpOut(first))!.row(t)
                    rows.scalars.replaceSubrange(0..<d, with: (0..<d).map { mid[$0] + out[$0] })
                case .attention:
                    // The same above the window's first block, whose MLP ran for the restored
                    // row alone (`attentionRows`).
                    rows = corrupted.tensor(.residPost(start - 1), sequence: s)!.rows(t..<n)
                    rows.scalars.replaceSubrange(0..<d, with: attentionRows!.row(t * samples + s))
                }
                residuals.append(rows)
            }
        }
        return residuals
    }

    /// The runs of one layer cut into batches (run indices): `runsPerBatch` consecutive runs
    /// each when set, else one batch per lane taking every `lanes`-th run, so each lane gets
    /// the same mix of long runs (early positions) and short ones.
    private func batchRuns(count: Int) -> [[Int]] {
        if let per = config.runsPerBatch {
            let p = max(1, per)
            return stride(from: 0, to: count, by: p).map { Array($0..<min(count, $0 + p)) }
        }
        // One batch per lane: smaller batches cost more in sgemm efficiency than they win in balance.
        let parts = max(1, min(config.lanes, count))
        return (0..<parts).map { Array(stride(from: $0, to: count, by: parts)) }
    }

    /// `[samples, subjectLength, dModel]` Gaussian noise with standard deviation `std`.
    public func drawNoise(subjectLength: Int, std: Float) throws -> Tensor {
        var rng = SeededRandom(seed: config.seed)
        let count = config.samples * subjectLength * model.config.dModel
        guard config.samples > 0 else { throw AnalysisError.invalid("--samples must be at least 1") }
        return Tensor(shape: [config.samples, subjectLength, model.config.dModel],
                      scalars: (0..<count).map { _ in std * rng.nextGaussian() })
    }
}

/// Residual rows captured per run of one batch by a hook.
private final class RowCollector {
    var rows: [Tensor?]
    init(count: Int) { rows = [Tensor?](repeating: nil, count: count) }
}

/// Calls `body` for `0..<count` on up to `lanes` threads, each taking the next index as it
/// finishes one, and returns the results in order;
/// throws the first error (by index) after every call has returned.
func runLanes<T>(_ count: Int, lanes: Int, _ body: (Int) throws -> T) throws -> [T] {
    if lanes <= 1 || count <= 1 { return try (0..<count).map(body) }
    let results = LaneResults<T>(count: count)
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: min(lanes, count)) { _ in
        // Each lane takes the next index not yet taken; each slot is written by one thread.
        while let i = results.next() { results.set(i, Swift.Result { try body(i) }) }
    }
    return try results.slots.map { try $0!.get() }
}

/// Result slots written from several threads, each slot by one (see ``runLanes(_:lanes:_:)``).
private final class LaneResults<T>: @unchecked Sendable {
    private(set) var slots: [Swift.Result<T, any Error>?]
    private let lock = NSLock()
    private var taken = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    /// The next index no lane has taken, if any.
    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < slots.count else { return nil }
        taken += 1
        return taken - 1
    }
    func set(_ i: Int, _ value: Swift.Result<T, any Error>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }
}
