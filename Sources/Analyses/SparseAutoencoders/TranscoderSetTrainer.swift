import Foundation
import Linalg
import Models

/// How to train a transcoder set: the layers, one training config for every layer (its
/// `tokens` is each layer's budget of rows) and the live source's buffer.
public struct TranscoderSetConfig: Sendable {
    public var layers: [Int]
    public var training: SAETrainingConfig
    /// Rows per layer's shuffle buffer.
    public var bufferRows = 16384
    /// Windows per forward pass.
    public var windowsPerPass = 8
    public var outlierFactor: Float = 10
    /// Tokens per window (recorded in each folder's `context_size`).
    public var context = 0

    public init(layers: [Int], training: SAETrainingConfig) {
        self.layers = layers
        self.training = training
    }

    /// The layers of `spec`: `all`, a range `A-B`, or a comma-separated list (`3,8`), each in the model.
    /// - Throws: ``SAEError/badSize(_:)`` naming the value that is not a layer of a `count`-layer model.
    public static func parseLayers(_ spec: String, count: Int) throws -> [Int] {
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text == "all" { return Array(0..<count) }
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(ends.count), let a = ends.first!, let b = ends.last! else {
                throw SAEError.badSize("layers '\(spec)': '\(part)' is not a layer, a range A-B or 'all'")
            }
            for l in [a, b] where !(0..<count).contains(l) {
                throw SAEError.badSize("layer \(l) (in --layers '\(spec)') is not in 0...\(count - 1): the model has \(count) layers")
            }
            guard a <= b else { throw SAEError.badSize("layers '\(spec)': the range \(part) runs backwards") }
            out += Array(a...b)
        }
        return Array(Set(out)).sorted()
    }
}

/// Where a transcoder-set run is: a layer's progress report with the shared passes' totals.
public struct TranscoderSetProgress: Sendable {
    public var layer: Int
    public var progress: SAEProgress
    public var forwardSeconds: Double
    public var forwardTokens: Int
}

/// Trains one transcoder per layer (`blocks.L.mlp.hook_in` -> `blocks.L.hook_mlp_out`) from the
/// same live forward passes: each batch of windows runs once and fills every layer's shuffle
/// buffer, and every layer then takes its steps (``SAETrainingRun``). Layers whose folder is
/// already complete in the output are skipped (a rerun resumes the layers left); with a
/// checkpoint (``TranscoderSetCheckpoint``, every `checkpoint.every` rounds of steps) a rerun
/// resumes mid-layer, bit for bit.
public enum TranscoderSetTrainer {
    /// Trains the layers of `config` that `directory` lacks on `windows`, writes each layer's
    /// folder, then measures every trained layer on `heldOut` windows and writes
    /// `transcoders.json` and `summary.txt`.
    /// - Throws: ``SAEError`` for a bad config, no windows or a set of another model in
    ///   `directory`; ``Models/ModelError`` from the pass; file-system errors.
    public static func train(model: Transformer, windows: [[Int]], heldOut: [[Int]] = [], config: TranscoderSetConfig,
                             directory: String, settings: [String: String] = [:], checkpoint: SAECheckpointing? = nil,
                             progress: (TranscoderSetProgress) -> Void = { _ in }) throws -> TranscoderSetManifest {
        var set = try existingSet(directory, model: model.config.name)
        set.training.merge(settings) { $1 }
        let saved = try checkpoint.flatMap { try TranscoderSetCheckpoint.read(at: $0.path) }
        if let saved, let bad = saved.header.layers.first(where: { !config.layers.contains($0) }) {
            throw SAEError.checkpoint("\(checkpoint!.path) trains layer \(bad), which --layers leaves out; rerun with the same options or delete it")
        }
        let todo = saved?.header.layers ?? config.layers.filter { !TranscoderSetManifest.isComplete(directory, layer: $0) }
        for layer in config.layers where !todo.contains(layer) && !set.layers.contains(layer) { set.layers.append(layer) }
        set.layers.sort()
        guard !todo.isEmpty else {
            // A complete set: a rerun with held-out windows measures it again (e.g. after a change of the rule).
            if !heldOut.isEmpty { try measure(&set, model: model, directory: directory, trained: [:], heldOut: heldOut, config: config) }
            try set.save(to: directory)
            return set
        }
        var live = try LiveActivations(model: model, windows: windows, channels: todo.map { .init(input: .mlpIn($0), target: .mlpOut($0)) },
                                       bufferRows: config.bufferRows, windowsPerPass: config.windowsPerPass,
                                       seed: config.training.seed, outlierFactor: config.outlierFactor)
        var runs = [SAETrainingRun?](repeating: nil, count: todo.count)
        var done = [Bool](repeating: false, count: todo.count), seconds = [Double](repeating: 0, count: todo.count)
        var trained: [Int: any SparseAutoencoder] = [:]
        var rounds = 0
        if let saved, let checkpoint {
            try saved.check(config: config.training, live: live, path: checkpoint.path)
            try live.restore(saved.source)
            for c in todo.indices {
                var layerConfig = config.training
                layerConfig.seed = config.training.seed &+ UInt64(todo[c])
                runs[c] = try saved.run(c, config: layerConfig)
            }
            (done, seconds, rounds) = (saved.header.done, saved.header.seconds, saved.header.rounds)
            checkpoint.resumed(rounds, config.training.steps)
        }
        let batch = config.training.batchSize
        while done.contains(false) {
            for c in todo.indices where !done[c] {
                // Full batches only: a layer whose filter left out more rows ends a few steps early.
                guard let b = try live.nextBatch(channel: c, rows: batch), b.input.shape[0] == batch, let y = b.target else {
                    done[c] = true
                    continue
                }
                let x = b.input
                let t0 = Date()
                if runs[c] == nil {
                    var layerConfig = config.training
                    layerConfig.seed = config.training.seed &+ UInt64(todo[c])
                    // The skip fit sees the drawn batch and the rest of the buffer (up to bufferRows rows in all).
                    let rest = live.bufferedRows(channel: c, limit: max(0, config.bufferRows - batch))
                    let sample: (input: Tensor, target: Tensor) = (Tensor(shape: [x.shape[0] + rest.input.shape[0], x.shape[1]], scalars: x.scalars + rest.input.scalars),
                                  Tensor(shape: [y.shape[0] + rest.input.shape[0], y.shape[1]], scalars: y.scalars + rest.target!.scalars))
                    runs[c] = try SAETrainingRun(config: layerConfig, width: x.shape[1], targetWidth: y.shape[1], firstBatch: y,
                                                 skipSample: config.training.skipFromData ? sample : nil)
                }
                let report = try runs[c]!.step(x, target: y)
                seconds[c] += Date().timeIntervalSince(t0)
                if let report {
                    progress(TranscoderSetProgress(layer: todo[c], progress: report, forwardSeconds: live.forwardSeconds, forwardTokens: live.forwardTokens))
                }
                if runs[c]!.isFinished { done[c] = true }
            }
            for c in todo.indices where done[c] && runs[c] != nil {
                var run = runs[c]!
                runs[c] = nil
                guard let last = run.report() else { continue }
                let (input, output) = set.hooks(layer: todo[c])
                var metadata = SAEMetadata(hookName: input, modelName: model.config.name, contextSize: config.context,
                                           extra: ["trained_with": "loupe train-transcoders", "seed": String(run.config.seed), "tokens": String(run.seen)])
                metadata.hookNameOut = output
                try SAEFolder.save(run.sae, metadata: metadata, to: TranscoderSetManifest.layerFolder(directory, layer: todo[c]))
                set.metrics[String(todo[c])] = TranscoderLayerMetrics(explainedVariance: last.explainedVariance, l0: last.l0, deadFraction: last.deadFraction,
                                                                     tokens: run.seen, steps: run.step, seconds: seconds[c], skipped: live.skipped[c])
                set.layers = Array(Set(set.layers + [todo[c]])).sorted()
                trained[todo[c]] = run.sae
            }
            rounds += 1
            if let checkpoint, done.contains(false) {
                let stop = checkpoint.stopAfter == rounds
                if stop || (checkpoint.every > 0 && rounds % checkpoint.every == 0) {
                    try set.save(to: directory)  // the metrics of layers finished so far
                    try TranscoderSetCheckpoint(layers: todo, runs: runs, done: done, seconds: seconds, rounds: rounds, config: config.training,
                                                live: live).write(to: checkpoint.path)
                }
                if stop { return set }
            }
        }
        if let checkpoint { try SAECheckpoint.remove(at: checkpoint.path) }
        set.training["forward_seconds"] = String(format: "%.1f", live.forwardSeconds)
        set.training["forward_tokens"] = String(live.forwardTokens)
        try set.save(to: directory)
        if !heldOut.isEmpty {
            try measure(&set, model: model, directory: directory, trained: trained, heldOut: heldOut, config: config)
            try set.save(to: directory)
        }
        return set
    }

    /// Measures every layer of `set` on `heldOut` windows (the transcoders just trained from
    /// `trained`, the others loaded from `directory`) and records the numbers in its metrics.
    static func measure(_ set: inout TranscoderSetManifest, model: Transformer, directory: String,
                        trained: [Int: any SparseAutoencoder], heldOut: [[Int]], config: TranscoderSetConfig) throws {
        let layers = set.layers.filter { set.metrics[String($0)] != nil }
        guard !layers.isEmpty else { return }
        let saes = try layers.map { try trained[$0] ?? SAEFolder.load(TranscoderSetManifest.layerFolder(directory, layer: $0)).sae }
        var live = try LiveActivations(model: model, windows: heldOut, channels: layers.map { .init(input: .mlpIn($0), target: .mlpOut($0)) },
                                       bufferRows: 1, windowsPerPass: config.windowsPerPass, seed: config.training.seed,
                                       outlierFactor: config.outlierFactor)
        let numbers = try evaluate(saes, channels: Array(layers.indices), live: &live, heldOut: heldOut)
        for (layer, n) in zip(layers, numbers) {
            set.metrics[String(layer)]?.heldOutExplainedVariance = n.explainedVariance
            set.metrics[String(layer)]?.heldOutL0 = n.l0
            set.metrics[String(layer)]?.heldOutDeadFraction = n.deadFraction
            set.metrics[String(layer)]?.heldOutTokens = n.tokens
            set.metrics[String(layer)]?.heldOutOutliers = n.outliers
            set.metrics[String(layer)]?.heldOutWorst = n.worst
        }
    }

    /// The set already in `directory` (a new one when there is none).
    /// - Throws: ``SAEError/wrongHook(_:)`` when it belongs to another model.
    static func existingSet(_ directory: String, model: String) throws -> TranscoderSetManifest {
        guard FileManager.default.fileExists(atPath: directory + "/" + TranscoderSetManifest.fileName) else { return TranscoderSetManifest(model: model) }
        let set = try TranscoderSetManifest.load(directory)
        guard set.model == model else {
            throw SAEError.wrongHook("\(directory) holds transcoders of \(set.model), not \(model); choose another --out")
        }
        return set
    }

    /// Held-out numbers of one transcoder: explained variance of the target, mean L0, and the
    /// fraction of latents that never fired, over the `tokens` rows at positions >= 1 that the
    /// outlier rule keeps (`outliers` rows left out).
    public struct HeldOut: Sendable {
        public var explainedVariance: Double, l0: Double, deadFraction: Double, tokens: Int, outliers: Int
        /// The rows with the largest squared error, largest first (at most three).
        public var worst: [HeldOutRow]
    }

    /// Runs `heldOut` through the model once and measures each transcoder `saes[i]` on its
    /// channel `channels[i]` of `live`, leaving out what training leaves out: position 0, and
    /// rows whose input norm exceeds `live.outlierFactor` times the median norm of the
    /// channel's rows in the first pass of held-out windows (counted in `outliers`). Without
    /// the rule a handful of such rows (the default model's rare tokens reach ~100x the median
    /// norm) can dominate the target's variance and the skip term's error.
    public static func evaluate(_ saes: [any SparseAutoencoder], channels: [Int], live: inout LiveActivations,
                                heldOut: [[Int]]) throws -> [HeldOut] {
        var sq = [Double](repeating: 0, count: saes.count), active = sq, rows = [Int](repeating: 0, count: saes.count), outliers = rows
        var sum = saes.map { [Double](repeating: 0, count: $0.parameters.outputWidth) }, sumSquares = sq
        var fired = saes.map { [Bool](repeating: false, count: $0.latents) }
        var thresholds = [Float?](repeating: nil, count: saes.count)
        var worst = [[HeldOutRow]](repeating: [], count: saes.count)
        for start in stride(from: 0, to: heldOut.count, by: live.windowsPerPass) {
            let acts = try live.run(Array(heldOut[start..<min(heldOut.count, start + live.windowsPerPass)]))
            for (i, sae) in saes.enumerated() {
                let norms = acts[channels[i]].map { s in s.input.withUnsafeBufferPointer { p in
                    (0..<s.input.shape[0]).map { BLAS.norm(n: s.input.shape[1], x: p.baseAddress! + $0 * s.input.shape[1]) } } }
                if thresholds[i] == nil {
                    let kept = norms.flatMap { $0.dropFirst() }.filter(\.isFinite).sorted()
                    thresholds[i] = kept.isEmpty ? .infinity : live.outlierFactor * kept[kept.count / 2]
                }
                for (s, (x, y)) in acts[channels[i]].enumerated() where x.shape[0] > 1 {
                    let keep = (1..<x.shape[0]).filter { norms[s][$0] <= thresholds[i]! }
                    outliers[i] += x.shape[0] - 1 - keep.count
                    guard !keep.isEmpty else { continue }
                    let xs = x.rows(at: keep), ys = y!.rows(at: keep)
                    let f = try sae.encode(xs)
                    let predicted = try sae.output(xs)
                    let d = ys.shape[1], m = sae.latents
                    for r in 0..<ys.shape[0] {
                        var rowError = 0.0, rowTarget = 0.0, rowOutput = 0.0
                        for j in 0..<d {
                            let v = Double(ys.scalars[r * d + j]), o = Double(predicted.scalars[r * d + j]), e = o - v
                            rowError += e * e
                            rowTarget += v * v
                            rowOutput += o * o
                            sum[i][j] += v
                        }
                        sq[i] += rowError
                        sumSquares[i] += rowTarget
                        if worst[i].count < 3 || rowError > worst[i].last!.squaredError {
                            let window = start + s, position = keep[r]
                            worst[i].append(HeldOutRow(window: window, position: position, token: heldOut[window][position], squaredError: rowError,
                                                       targetNorm: rowTarget.squareRoot(), outputNorm: rowOutput.squareRoot()))
                            worst[i] = Array(worst[i].sorted { $0.squaredError > $1.squaredError }.prefix(3))
                        }
                        for a in 0..<m where f.scalars[r * m + a] != 0 { active[i] += 1; fired[i][a] = true }
                    }
                    rows[i] += ys.shape[0]
                }
            }
        }
        return saes.indices.map { i in
            let n = Double(max(rows[i], 1))
            let variance = sumSquares[i] - sum[i].reduce(0) { $0 + $1 * $1 } / n
            return HeldOut(explainedVariance: variance > 0 ? 1 - sq[i] / variance : 0, l0: active[i] / n,
                           deadFraction: Double(fired[i].filter { !$0 }.count) / Double(fired[i].count), tokens: rows[i], outliers: outliers[i],
                           worst: worst[i].map { var w = $0; w.share = sq[i] > 0 ? $0.squaredError / sq[i] : 0; return w })
        }
    }
}
