import Linalg
import Models

extension ActivationPatching {
    /// Patches every cell of the configured sites and layers.
    ///
    /// - Parameters:
    ///   - clean, corrupted: token ids of equal length.
    ///   - answer, wrong: the tokens whose logit difference is measured (`answer` is the clean
    ///     behaviour); the probability reported is `answer`'s.
    ///   - lanes: (site, layer) batches run at once on this many threads (see
    ///     ``CausalTracing/Config/lanes``: set OpenBLAS to one thread first). Results are the
    ///     same as with one lane at the same OpenBLAS thread count.
    ///   - skipUnchanged: skip patches that cannot change anything (positions before the first
    ///     differing token, activations equal to the base run's bit for bit) and give their
    ///     cells the base run's measurement. `false` runs every cell (tests use it to check
    ///     what the skipped cells stand for).
    ///   - progress: called with a line after each site and layer (from the lane's thread).
    /// - Throws: ``AnalysisError/lengthMismatch(clean:corrupted:)`` for prompts of different
    ///   lengths; ``ModelError`` for prompts the model cannot run.
    public func run(clean: [Int], corrupted: [Int], answer: Int, wrong: Int, lanes: Int = 1,
                    skipUnchanged: Bool = true, progress: ((String) -> Void)? = nil) throws -> Result {
        guard clean.count == corrupted.count else {
            throw AnalysisError.lengthMismatch(clean: clean.count, corrupted: corrupted.count)
        }
        guard answer != wrong else { throw AnalysisError.invalid("the answer and the wrong answer are the same token") }
        let c = model.config, n = clean.count, layers = c.nLayers
        let denoising = config.direction == .denoising
        let (sourceTokens, baseTokens) = denoising ? (clean, corrupted) : (corrupted, clean)

        // The source run holds every activation a patch copies; the base run keeps its KV
        // cache and the residual entering each block, from which patched runs resume.
        let source = ActivationCache()
        var captureSource = HookSet()
        captureSource.capture(config.sites.flatMap { site in (0..<layers).map(site.point) }, into: source)
        let sourceLogits = try model.forward([sourceTokens], hooks: captureSource).logits[0].scalars
        let base = ActivationCache()
        var captureBase = HookSet()
        captureBase.capture(Array(Set((0..<layers).map { HookPoint.residPre($0) }
                                      + config.sites.flatMap { site in (0..<layers).map(site.point) })), into: base)
        let baseCache = KVCache(config: c, reserve: n)
        let baseLogits = try model.forward([baseTokens], caches: [baseCache], hooks: captureBase).logits[0].scalars
        let sourceM = measure(sourceLogits, answer: answer, wrong: wrong)
        let baseM = measure(baseLogits, answer: answer, wrong: wrong)

        // Before the first differing token both runs hold the same activations.
        let firstDifference = skipUnchanged ? (0..<n).first { clean[$0] != corrupted[$0] } ?? n : 0
        var result = Result(config: config, cleanTokens: clean, corruptedTokens: corrupted, answer: answer, wrong: wrong,
                            clean: denoising ? sourceM : baseM, corrupted: denoising ? baseM : sourceM,
                            grids: [:], rowLayersComputed: 0, rowLayersNaive: 0)
        let wanted = Set(config.layers ?? Array(0..<layers))
        let nan = Measurement(logitDifference: .nan, probability: .nan)
        // One job per (site, layer): its runs go through the forward pass as one batch.
        // Lower layers resume earlier and cost more: they go first, so no lane waits at the end.
        let jobs = config.sites.flatMap { site in (0..<layers).filter(wanted.contains).map { (site: site, layer: $0) } }
            .sorted { $0.layer < $1.layer }
        let rows = try runLanes(jobs.count, lanes: lanes) { i -> (cells: [Measurement], rowLayers: Int) in
            let (site, layer) = jobs[i]
            let runs = patchedRuns(site, layer: layer, firstPosition: site.isPerHead ? 0 : firstDifference,
                                   source: source, base: base, baseCache: baseCache, skipUnchanged: skipUnchanged)
            let logits = runs.residuals.isEmpty ? []
                : try model.forward(resuming: layer, residuals: runs.residuals, caches: runs.caches,
                                    hooks: runs.hooks, logits: .last).logits
            var cells = [Measurement](repeating: baseM, count: site.isPerHead ? c.nHeads : n)
            for (i, column) in runs.columns.enumerated() {
                cells[column] = measure(logits[i].scalars, answer: answer, wrong: wrong)
            }
            progress?("\(site.rawValue) layer \(layer): \(runs.columns.count) runs")
            return (cells, runs.residuals.reduce(0) { $0 + $1.shape[0] } * (layers - layer))
        }
        for site in config.sites {
            result.grids[site] = [[Measurement]](repeating: [Measurement](repeating: nan, count: site.isPerHead ? c.nHeads : n),
                                                 count: layers)
        }
        for (job, row) in zip(jobs, rows) {
            result.grids[job.site]![job.layer] = row.cells
            result.rowLayersComputed += row.rowLayers
            result.rowLayersNaive += row.cells.count * n * layers
        }
        let done = result
        result.indirectEffects = done.grids.mapValues { $0.map { $0.map(done.indirectEffect) } }
        return result
    }

    /// The runs that patch `site` at `layer`: one per position from `firstPosition` (or per
    /// head), each resuming at `layer` from the base run's residual and KV cache. With
    /// `skipUnchanged`, a patch whose activation equals the base run's bit for bit changes
    /// nothing and gets no run.
    func patchedRuns(_ site: Site, layer: Int, firstPosition: Int, source: ActivationCache, base: ActivationCache,
                     baseCache: KVCache, skipUnchanged: Bool = true) -> (residuals: [Tensor], caches: [KVCache], hooks: HookSet, columns: [Int]) {
        let c = model.config, n = baseCache.count, d = c.dModel
        let baseResidual = base.tensor(.residPre(layer))!
        var residuals: [Tensor] = [], caches: [KVCache] = [], columns: [Int] = []
        var hooks = HookSet()
        let point = site.point(layer)
        let patch = source.tensor(point)!, original = base.tensor(point)!
        func unchanged(_ range: Range<Int>) -> Bool {
            skipUnchanged && patch.scalars[range].elementsEqual(original.scalars[range]) { $0.bitPattern == $1.bitPattern }
        }
        switch site {
        case .residPre, .attnOut, .mlpOut:
            for t in firstPosition..<n where !unchanged((t * d)..<((t + 1) * d)) {
                var rows = baseResidual.rows(t..<n)
                if site == .residPre { rows.scalars.replaceSubrange(0..<d, with: patch.row(t)) }
                residuals.append(rows)
                caches.append(baseCache.copy(prefix: t, reserve: n - t, fromLayer: layer))
                columns.append(t)
            }
            if site != .residPre {
                // Row 0 of every run is its patched position.
                hooks.modify(point) { act, ctx in
                    let t = ctx.positions.lowerBound, w = act.shape[1]
                    act.scalars.replaceSubrange(0..<w, with: patch.scalars[(t * w)..<((t + 1) * w)])
                }
            }
        case .head:
            let hd = c.headDim, heads = c.nHeads
            for h in 0..<heads where !(0..<n).allSatisfy({ unchanged(((($0 * heads) + h) * hd)..<((($0 * heads) + h + 1) * hd)) }) {
                residuals.append(baseResidual)
                caches.append(baseCache.copy(prefix: 0, reserve: n, fromLayer: layer))
                columns.append(h)
            }
            // Run i patches head columns[i] at every position.
            let patchedHeads = columns
            hooks.modify(point) { act, ctx in
                let h = patchedHeads[ctx.sequence]
                for p in 0..<act.shape[0] {
                    let o = (p * heads + h) * hd
                    act.scalars.replaceSubrange(o..<(o + hd), with: patch.scalars[o..<(o + hd)])
                }
            }
        }
        return (residuals, caches, hooks, columns)
    }

    /// One patched run computed whole, without reusing anything: the base prompt with `site`
    /// at `layer` replaced by the source run's activation at `positions` (nil: all) and, for
    /// ``Site/head``, `heads` (nil: all). The sweep's cells must equal this.
    public func patchOnce(clean: [Int], corrupted: [Int], answer: Int, wrong: Int, site: Site, layer: Int,
                          positions: Set<Int>? = nil, heads: Set<Int>? = nil) throws -> Measurement {
        guard clean.count == corrupted.count else {
            throw AnalysisError.lengthMismatch(clean: clean.count, corrupted: corrupted.count)
        }
        let denoising = config.direction == .denoising
        let point = site.point(layer)
        let source = ActivationCache()
        var capture = HookSet()
        capture.capture([point], into: source)
        _ = try model.forward([denoising ? clean : corrupted], hooks: capture, logits: .none)
        var patch = HookSet()
        patch.replace(at: point, with: source.tensor(point)!, positions: positions.map { .positions($0) } ?? .all,
                      heads: heads.map { .heads($0) } ?? .all)
        let logits = try model.forward([denoising ? corrupted : clean], hooks: patch).logits[0].scalars
        return measure(logits, answer: answer, wrong: wrong)
    }

    func measure(_ logits: [Float], answer: Int, wrong: Int) -> Measurement {
        Measurement(logitDifference: Double(logits[answer]) - Double(logits[wrong]),
                    probability: targetProbability(logits, target: answer))
    }
}
