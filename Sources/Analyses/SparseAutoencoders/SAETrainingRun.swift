import Foundation
import Linalg

/// One SAE's training, step by step: the SAE, its Adam states, dead-latent tracking and the
/// progress window. ``SAETrainer/train(source:config:progress:)`` drives one from a source;
/// ``TranscoderSetTrainer`` drives one per layer from shared forward passes.
public struct SAETrainingRun {
    public private(set) var config: SAETrainingConfig
    public private(set) var sae: any SparseAutoencoder
    /// Steps taken.
    public private(set) var step = 0
    /// Rows trained on.
    public private(set) var seen = 0
    /// The last progress report (nil before the first).
    public private(set) var last: SAEProgress?
    var adams: [Adam]
    /// JumpReLU: Adam steps log θ (SAELens's log_threshold) with dL/dθ · θ.
    var logThreshold: [Float]
    var sinceFired: [Int]
    var window = SAETrainer.Window()
    let start = Date()
    /// Seconds trained before a resume.
    var priorSeconds = 0.0

    /// A fresh SAE of `config` for rows of `width` (a transcoder when `targetWidth` is set),
    /// `b_dec` at the mean of `firstBatch` (a transcoder's: of its first target batch); with
    /// `config.skipFromData`, `W_skip` and `b_dec` fitted on `skipSample` (``SkipFit``).
    /// - Throws: ``SAEError`` for a bad config or a target width other than `width`.
    public init(config: SAETrainingConfig, width d: Int, targetWidth dOut: Int?, firstBatch: Tensor,
                skipSample: (input: Tensor, target: Tensor)? = nil) throws {
        try config.validate(width: d)
        if let dOut, dOut != d {
            throw SAEError.widthMismatch(expected: d, found: dOut, what: "target width (this Loupe trains transcoders with d_out = d_in)")
        }
        if config.skip && dOut == nil { throw SAEError.badSize("a skip term (--skip) needs a transcoder: give a target hook") }
        self.config = config
        sae = try SAETrainer.makeSAE(config: config, width: d, firstBatch: firstBatch, transcoder: dOut != nil, skipSample: skipSample)
        adams = (0..<6).map { _ in Adam(learningRate: config.learningRate) }
        logThreshold = sae.parameters.threshold.map { Float(log(Double($0))) }
        sinceFired = [Int](repeating: 0, count: config.latents)
    }

    /// Whether every step of the budget is taken.
    public var isFinished: Bool { step >= config.steps }

    /// Seconds since the run was made.
    public var seconds: Double { priorSeconds + Date().timeIntervalSince(start) }

    /// The run saved in `checkpoint`, continuing where it stopped, with `config` (checked equal
    /// to the saved one by ``SAECheckpoint/check(config:width:targetWidth:identity:path:)``; nil:
    /// the saved one as decoded).
    /// - Throws: ``SAEError`` when the checkpoint's arrays do not fit its config.
    public init(restoring checkpoint: SAECheckpoint, config current: SAETrainingConfig? = nil) throws {
        let h = checkpoint.header, a = checkpoint.arrays
        var config = h.config
        config.skipFromData = false
        try self.init(config: config, width: h.width, targetWidth: h.targetWidth,
                      firstBatch: Tensor(shape: [1, h.targetWidth ?? h.width], scalars: [Float](repeating: 0, count: h.targetWidth ?? h.width)))
        self.config = current ?? h.config
        var p = sae.parameters
        func take(_ name: String, _ count: Int) throws -> [Float] {
            let v = a[name] ?? []
            guard v.count == count else { throw SAEError.checkpoint("the checkpoint's \(name) holds \(v.count) values, expected \(count)") }
            return v
        }
        let (d, m) = (p.width, p.latents)
        p.wEnc = try take("W_enc", d * m)
        p.wDec = try take("W_dec", m * p.outputWidth)
        p.bEnc = try take("b_enc", m)
        p.bDec = try take("b_dec", p.outputWidth)
        p.threshold = try take("threshold", p.threshold.count)
        p.wSkip = try take("W_skip", p.wSkip.count)
        sae.parameters = p
        logThreshold = try take("log_threshold", logThreshold.count)
        if let bits = h.batchTopKThreshold {
            let (t, seen) = (Double(bitPattern: bits), h.batchTopKObservations ?? 1)
            if var b = sae as? BatchTopKSAE { (b.threshold, b.thresholdObservations) = (t, seen); sae = b }
            if var mt = sae as? MatryoshkaSAE { (mt.base.threshold, mt.base.thresholdObservations) = (t, seen); sae = mt }
        }
        let states = try checkpoint.adamStates()
        guard states.count == adams.count else { throw SAEError.checkpoint("the checkpoint holds \(states.count) Adam states, expected \(adams.count)") }
        for i in adams.indices { adams[i].state = states[i] }
        guard h.sinceFired.count == config.latents else {
            throw SAEError.checkpoint("the checkpoint's dead-latent counters hold \(h.sinceFired.count) latents, expected \(config.latents)")
        }
        (step, seen, sinceFired, window, last, priorSeconds) = (h.step, h.seen, h.sinceFired, h.window, h.last, h.seconds)
    }

    /// One optimizer step on `batch` (and its `target` rows for a transcoder); returns the
    /// progress report when one is due (every `progressEvery` steps and after the last).
    /// With `share` (under MPI), every rank passes the whole batch and computes the loss of its
    /// block of rows; the ranks sum the gradient and take the same step (``SAEBatchShare``).
    /// - Throws: ``SAEError`` for non-finite rows or mismatched shapes; under MPI, a failed
    ///   collective (check the batch first: a rank that throws alone leaves the others waiting).
    public mutating func step(_ batch: Tensor, target: Tensor?, share: SAEBatchShare? = nil) throws -> SAEProgress? {
        let dead = sinceFired.map { $0 >= config.deadWindow }
        let options = SAELossOptions(sparsityCoefficient: config.sparsityCoefficient(at: step), dead: dead, share: share)
        var stats: SAEBatchStats, g: SAEParameters
        if let share {
            (stats, g) = try sae.lossAndGradients(share.slice(batch), target: target.map(share.slice), options: options)
            (stats, g) = try share.combine(stats, g, batch: target ?? batch)
        } else {
            (stats, g) = try sae.lossAndGradients(batch, target: target, options: options)
        }
        sae.observe(stats)
        sae.constrainGradient(&g)
        let lr = config.learningRate(at: step)
        for i in 0..<6 { adams[i].learningRate = max(lr, .leastNormalMagnitude) }
        // The steps update the SAE's arrays in place (no copy of the weights per step).
        if sae.parameters.hasSkip { adams[5].step(&sae.parameters.wSkip, gradient: g.wSkip) }
        adams[0].step(&sae.parameters.wEnc, gradient: g.wEnc)
        adams[1].step(&sae.parameters.wDec, gradient: g.wDec)
        adams[2].step(&sae.parameters.bEnc, gradient: g.bEnc)
        adams[3].step(&sae.parameters.bDec, gradient: g.bDec)
        if !logThreshold.isEmpty, g.threshold.count == logThreshold.count {
            adams[4].step(&logThreshold, gradient: zip(g.threshold, sae.parameters.threshold).map { $0 * $1 })
            sae.parameters.threshold = logThreshold.map { Float(exp(Double($0))) }
        }
        sae.constrainParameters()
        seen += stats.rows
        for i in 0..<config.latents { sinceFired[i] = stats.fired[i] > 0 ? 0 : sinceFired[i] + stats.rows }
        window.add(stats)
        step += 1
        guard step % max(config.progressEvery, 1) == 0 || step == config.steps else { return nil }
        return report()
    }

    /// Reports the steps since the last report (when there are any) and returns the latest report.
    @discardableResult
    public mutating func report() -> SAEProgress? {
        guard window.steps > 0 else { return last }
        let deadNow = Double(sinceFired.filter { $0 >= min(config.deadWindow, seen) }.count) / Double(config.latents)
        last = window.report(step: step, steps: config.steps, tokens: seen, dead: deadNow, seconds: seconds)
        window = SAETrainer.Window()
        return last
    }
}
