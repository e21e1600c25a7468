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
        // Lanes take whole jobs, the longest first, so no lane waits for another between layers.
        let jobs = layerJobs().sorted { $0.cost > $1.cost }
        let sweep = Sweep(clean: clean, corrupted: corrupted, caches: caches, tokens: n, samples: samples, target: target)
        let rows = try runLanes(jobs.count, lanes: config.lanes) { try trace(jobs[$0], sweep) }
        for kind in config.kinds {
            result.grids[kind] = [[Double]](repeating: [Double](repeating: .nan, count: n), count: c.nLayers)
        }
        for (job, jobRows) in zip(jobs, rows) {
            for (layer, row) in zip(job.layers, jobRows.cells) { result.grids[job.kind]![layer] = row }
            result.rowLayersComputed += jobRows.rowLayers
            result.rowLayersNaive += job.layers.count * samples * n * n * c.nLayers
        }
        result.indirectEffects = Dictionary(uniqueKeysWithValues: config.kinds.map { ($0, result.indirectEffect($0)!) })
        return result
    }

    /// What every restoration run reads: the clean and corrupted activations, the corrupted
    /// runs' KV caches (one per sample), and the measured token.
    struct Sweep {
        let clean: ActivationCache, corrupted: ActivationCache
        let caches: [KVCache]
        let tokens: Int, samples: Int, target: Int
    }

    /// Layers of one kind that one lane computes in order: a single layer, or window layers
    /// whose windows start at the same layer (clipped at layer 0), each branching off the
    /// previous one's runs. `cost` estimates its layer evaluations, to schedule long jobs first.
    struct LayerJob {
        let kind: Kind
        let layers: [Int]
        let cost: Int
    }

    func layerJobs() -> [LayerJob] {
        let layerCount = model.config.nLayers
        let wanted = Set(config.layers ?? Array(0..<layerCount)).filter { $0 >= 0 && $0 < layerCount }
        var jobs: [LayerJob] = []
        for kind in config.kinds {
            var chain: [Int] = []
            func close() {
                guard let first = chain.first else { return }
                let start = firstResumedLayer(kind, layer: first)
                jobs.append(LayerJob(kind: kind, layers: chain, cost: (layerCount - start) * chain.count))
                chain = []
            }
            for layer in wanted.sorted() {
                if let last = chain.last, !branches(kind, from: last, to: layer) { close() }
                chain.append(layer)
            }
            close()
        }
        return jobs
    }

    /// Whether `kind`'s runs at `next` can branch off those at `layer`: consecutive window
    /// layers whose windows start together, the first window ending below the top.
    func branches(_ kind: Kind, from layer: Int, to next: Int) -> Bool {
        guard kind != .state, next == layer + 1 else { return false }
        let here = window(around: layer), there = window(around: next)
        return there.lowerBound == here.lowerBound && here.upperBound < model.config.nLayers
    }

    /// The grid rows of one job's layers, and the layer evaluations they took.
    func trace(_ job: LayerJob, _ sweep: Sweep) throws -> (cells: [[Double]], rowLayers: Int) {
        let n = sweep.tokens, samples = sweep.samples, layerCount = model.config.nLayers
        var cells: [[Double]] = [], rowLayers = 0
        // The previous layer's runs' residual rows entering block `carried.layer`, where this
        // layer's restorations first differ from theirs.
        var carried: (layer: Int, rows: [Tensor])? = nil
        for (i, layer) in job.layers.enumerated() {
            var (start, hooks, given) = restoration(job.kind, layer: layer, clean: sweep.clean)
            let residuals: [Tensor]
            if let carried {
                start = carried.layer
                residuals = carried.rows
            } else {
                residuals = try restoredRows(job.kind, layer: layer, start: start, clean: sweep.clean,
                                             corrupted: sweep.corrupted, tokens: n, samples: samples)
            }
            let carryAt = i + 1 < job.layers.count ? window(around: layer).upperBound : nil
            // One run per (position, sample): residual rows from the restored position on,
            // keys and values before it from that sample's corrupted cache.
            var runCaches: [KVCache] = []
            for t in 0..<n {
                for s in 0..<samples { runCaches.append(sweep.caches[s].copy(prefix: t, reserve: n - t, fromLayer: start)) }
            }
            var probabilities: [Double] = [], carriedRows: [Tensor?] = []
            let per = max(1, config.runsPerBatch ?? residuals.count)
            for lo in stride(from: 0, to: residuals.count, by: per) {
                let hi = min(residuals.count, lo + per)
                let collected = RowCollector(count: hi - lo)
                var batchHooks = hooks
                if let carryAt {
                    // Hooks see sequence indices within the batch.
                    batchHooks.observe(.residPre(carryAt)) { rows, ctx in collected.rows[ctx.sequence] = rows }
                }
                let logits = try model.forward(resuming: start, residuals: Array(residuals[lo..<hi]),
                                               caches: Array(runCaches[lo..<hi]), hooks: batchHooks,
                                               logits: .lastPacked, given: given).logits[0]
                probabilities += targetProbabilities(logits, target: sweep.target)
                carriedRows += collected.rows
            }
            carried = carryAt.map { ($0, carriedRows.map { $0! }) }
            cells.append((0..<n).map { t in
                (0..<samples).map { s in probabilities[t * samples + s] }.reduce(0, +) / Double(samples)
            })
            rowLayers += samples * (n * (n + 1) / 2) * (layerCount - start)
        }
        return (cells, rowLayers)
    }

    /// The block a restoration run of `kind` at `layer` starts at (unless it branches off the
    /// previous layer's runs): above the restored layer for `state`, above the window's first
    /// layer for `mlp` and `attention` (the caller builds the restored row there).
    func firstResumedLayer(_ kind: Kind, layer: Int) -> Int {
        kind == .state ? layer + 1 : window(around: layer).lowerBound + 1
    }

    /// Where a restoration run of `kind` at `layer` resumes, and what restores the clean MLP
    /// or attention outputs at the run's first position for the window's layers from there
    /// on: given MLP outputs (whose MLPs are then never computed for that row), hooks for
    /// attention. (For `state`, and for the window's first layer, the restored row is written
    /// into the resumed residual instead.)
    func restoration(_ kind: Kind, layer: Int, clean: ActivationCache)
        -> (start: Int, hooks: HookSet, given: GivenMLPOutputs) {
        let start = firstResumedLayer(kind, layer: layer)
        let layers = window(around: layer).filter { $0 >= start }
        switch kind {
        case .state:
            return (start, HookSet(), GivenMLPOutputs())
        case .mlp:
            // Row 0 of every run is its restored position.
            return (start, HookSet(), GivenMLPOutputs(Dictionary(uniqueKeysWithValues: layers.map { ($0, clean.tensor(.mlpOut($0))!) })))
        case .attention:
            var hooks = HookSet()
            for l in layers {
                let source = clean.tensor(.attnOut(l))!
                hooks.modify(.attnOut(l)) { act, ctx in
                    let t = ctx.positions.lowerBound, w = act.shape[1]
                    act.scalars.replaceSubrange(0..<w, with: source.scalars[(t * w)..<((t + 1) * w)])
                }
            }
            return (start, hooks, GivenMLPOutputs())
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

    /// `[samples, subjectLength, dModel]` Gaussian noise with standard deviation `std`.
    public func drawNoise(subjectLength: Int, std: Float) throws -> Tensor {
        var rng = SeededRandom(seed: config.seed)
        let count = config.samples * subjectLength * model.config.dModel
        guard config.samples > 0 else { throw AnalysisError.invalid("the noise sample count must be at least 1, not \(config.samples)") }
        return Tensor(shape: [config.samples, subjectLength, model.config.dModel],
                      scalars: (0..<count).map { _ in std * rng.nextGaussian() })
    }
}

/// Residual rows captured per run of one batch by a hook.
private final class RowCollector {
    var rows: [Tensor?]
    init(count: Int) { rows = [Tensor?](repeating: nil, count: count) }
}
