import Cluster
import Foundation
import Linalg

/// The architectures the trainer builds: ``StandardSAE``, ``TopKSAE``, ``JumpReLUSAE``,
/// ``BatchTopKSAE`` and ``MatryoshkaSAE`` (Matryoshka BatchTopK).
public enum SAEArchitecture: String, Sendable, Codable, CaseIterable {
    case standard, topk, jumprelu, batchtopk, matryoshka
}

/// Where `b_dec` starts (SAELens `b_dec_init_method`): the mean of the first batch, its
/// geometric median (``GeometricMedian``, Weiszfeld, at most 100 iterations, relative
/// tolerance 1e-12), or zero. A transcoder's is of its first target batch.
public enum SAEDecoderBiasInit: String, Sendable, Codable, CaseIterable {
    case mean
    case geometricMedian = "geometric-median"
    case zeros
}

/// How to train an SAE. Defaults follow Anthropic's April 2024 update (standard), Gao et al.
/// 2024 (TopK) and SAELens (JumpReLU, BatchTopK, Matryoshka): Adam (0.9, 0.999), learning-rate
/// warm-up then linear decay to 0 over the last `decayFraction` of the steps, λ (L1 or L0)
/// warmed up linearly over the first `l1WarmupFraction`.
public struct SAETrainingConfig: Sendable, Codable, Equatable {
    public var architecture: SAEArchitecture
    /// `d_sae`.
    public var latents: Int
    /// TopK: active latents per row.
    public var k: Int
    /// Standard: the L1 coefficient λ (after warm-up).
    public var l1Coefficient: Float
    public var learningRate: Float
    public var batchSize: Int
    /// Training rows in total (the budget, rounded up to whole batches; passes repeat over the
    /// source in new orders, a pass's last rows sharing a batch with the next pass's first).
    public var tokens: Int
    public var seed: UInt64
    public var warmupSteps: Int
    public var decayFraction: Double
    public var l1WarmupFraction: Double
    /// A latent that has not fired in this many rows is dead.
    public var deadWindow: Int
    /// TopK: latents of the auxiliary loss (nil: `d_in / 2`) and its weight.
    public var auxK: Int?
    public var auxAlpha: Float
    /// Report progress every this many steps.
    public var progressEvery: Int
    /// JumpReLU: the L0 coefficient λ (after warm-up; SAELens `l0_coefficient`, 1).
    public var l0Coefficient: Float
    /// JumpReLU: the straight-through kernel's bandwidth ε and the initial threshold θ
    /// (SAELens `jumprelu_bandwidth` and `jumprelu_init_threshold`, both 0.001).
    public var bandwidth: Float
    public var initialThreshold: Float
    /// Matryoshka: prefix widths (nil: d_sae/16, /8, /4, /2, d_sae).
    public var matryoshkaWidths: [Int]?
    /// BatchTopK and Matryoshka: the threshold estimate's rate (SAELens `topk_threshold_lr`).
    public var thresholdRate: Double
    /// Transcoders (a source with targets): train a linear skip term `W_skip` `[d_out, d_in]`
    /// too, starting at zero (SAELens `SkipTranscoder`).
    public var skip = false
    /// With `skip`: start `W_skip` and `b_dec` at the ridge least-squares fit of the targets on
    /// the inputs of the first rows (``SkipFit``) instead of zero and the targets' mean.
    public var skipFromData = false
    /// Where `b_dec` starts (overridden by `skipFromData`).
    public var bDecInit: SAEDecoderBiasInit = .mean

    public init(architecture: SAEArchitecture, latents: Int, k: Int = 32, l1Coefficient: Float = 5, learningRate: Float = 4e-4,
                batchSize: Int = 4096, tokens: Int, seed: UInt64 = 0, warmupSteps: Int = 0, decayFraction: Double = 0.2,
                l1WarmupFraction: Double = 0.05, deadWindow: Int = 1_000_000, auxK: Int? = nil, auxAlpha: Float = 1.0 / 32,
                progressEvery: Int = 50, l0Coefficient: Float = 1, bandwidth: Float = 0.001, initialThreshold: Float = 0.001,
                matryoshkaWidths: [Int]? = nil, thresholdRate: Double = 0.01) {
        self.architecture = architecture
        self.latents = latents
        self.k = k
        self.l1Coefficient = l1Coefficient
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.tokens = tokens
        self.seed = seed
        self.warmupSteps = warmupSteps
        self.decayFraction = decayFraction
        self.l1WarmupFraction = l1WarmupFraction
        self.deadWindow = deadWindow
        self.auxK = auxK
        self.auxAlpha = auxAlpha
        self.progressEvery = progressEvery
        self.l0Coefficient = l0Coefficient
        self.bandwidth = bandwidth
        self.initialThreshold = initialThreshold
        self.matryoshkaWidths = matryoshkaWidths
        self.thresholdRate = thresholdRate
    }

    /// Steps the budget gives (every batch is full; the last step may pass the budget).
    public var steps: Int { max(1, (tokens + batchSize - 1) / batchSize) }

    /// The learning rate at `step` (0-based): linear warm-up, constant, linear decay to 0.
    public func learningRate(at step: Int) -> Float {
        let total = steps
        var f: Double = 1
        if warmupSteps > 0, step < warmupSteps { f = Double(step + 1) / Double(warmupSteps) }
        let decayStart = Double(total) * (1 - decayFraction)
        if decayFraction > 0, Double(step) >= decayStart {
            f = min(f, max(0, (Double(total) - Double(step)) / (Double(total) - decayStart)))
        }
        return learningRate * Float(f)
    }

    /// The sparsity warm-up factor at `step`: linear from 0 to 1 over the first
    /// `l1WarmupFraction` of steps (used for L1 and L0 alike).
    public func sparsityWarmup(at step: Int) -> Float {
        let warm = Double(steps) * l1WarmupFraction
        guard warm >= 1 else { return 1 }
        return Float(min(1, Double(step + 1) / warm))
    }

    /// The L1 coefficient at `step`, warmed up.
    public func l1Coefficient(at step: Int) -> Float { l1Coefficient * sparsityWarmup(at: step) }

    /// The sparsity coefficient in force at `step`: λ of L1 (standard) or of L0 (JumpReLU),
    /// warmed up alike; 0 for the TopK family.
    public func sparsityCoefficient(at step: Int) -> Float {
        switch architecture {
        case .standard: return l1Coefficient(at: step)
        case .jumprelu: return l0Coefficient * sparsityWarmup(at: step)
        case .topk, .batchtopk, .matryoshka: return 0
        }
    }

    /// - Throws: ``SAEError/badSize(_:)`` naming the first value out of range.
    public func validate(width: Int) throws {
        try SAEParameters.checkSizes(width: width, latents: latents)
        guard batchSize > 0 else { throw SAEError.badSize("batch size \(batchSize) must be positive") }
        guard tokens > 0 else { throw SAEError.badSize("token budget \(tokens) must be positive") }
        guard learningRate > 0, learningRate.isFinite else { throw SAEError.badSize("learning rate \(learningRate) must be positive") }
        guard l1Coefficient >= 0, l1Coefficient.isFinite else { throw SAEError.badSize("L1 coefficient \(l1Coefficient) must be >= 0") }
        guard (0...1).contains(decayFraction), (0...1).contains(l1WarmupFraction) else {
            throw SAEError.badSize("decay fraction \(decayFraction) and L1 warm-up fraction \(l1WarmupFraction) must be in 0...1")
        }
        guard deadWindow > 0 else { throw SAEError.badSize("dead window \(deadWindow) must be positive") }
        let (scratch, overflow) = batchSize.multipliedReportingOverflow(by: latents)
        guard !overflow, scratch <= Int(Int32.max) else { throw SAEError.badSize("batch \(batchSize) x d_sae \(latents) is too large for one sgemm") }
        if [SAEArchitecture.topk, .batchtopk, .matryoshka].contains(architecture), !(1...latents).contains(k) {
            throw SAEError.badSize("\(architecture == .topk ? "TopK" : "BatchTopK") k \(k) must be in 1...\(latents) (d_sae)")
        }
        if architecture == .jumprelu {
            guard l0Coefficient >= 0, l0Coefficient.isFinite else { throw SAEError.badSize("L0 coefficient \(l0Coefficient) must be >= 0") }
            guard bandwidth > 0, bandwidth.isFinite else { throw SAEError.badSize("JumpReLU bandwidth \(bandwidth) must be positive") }
            guard initialThreshold > 0, initialThreshold.isFinite else { throw SAEError.badSize("JumpReLU initial threshold \(initialThreshold) must be positive") }
        }
        guard thresholdRate > 0, thresholdRate <= 1 else { throw SAEError.badSize("threshold rate \(thresholdRate) must be in (0, 1]") }
        if architecture == .matryoshka, let w = matryoshkaWidths {
            guard let first = w.first else { throw SAEError.badSize("Matryoshka widths are empty") }
            guard first >= k else { throw SAEError.badSize("Matryoshka width \(first) is smaller than k \(k)") }
            for (a, b) in zip(w, w.dropFirst()) where a >= b { throw SAEError.badSize("Matryoshka widths \(w) must increase strictly") }
            guard w.last! <= latents else { throw SAEError.badSize("Matryoshka width \(w.last!) is more than d_sae \(latents)") }
        }
    }
}

/// Numbers reported while training, averaged over the steps since the last report.
public struct SAEProgress: Sendable, Codable {
    public var step: Int
    public var steps: Int
    public var tokens: Int
    public var loss: Double
    public var mse: Double
    public var l0: Double
    public var explainedVariance: Double
    /// Fraction of latents not fired in the last `deadWindow` rows.
    public var deadFraction: Double
    public var tokensPerSecond: Double
}

/// The outcome of training: the SAE, the last report and what the source left out.
public struct SAETrainingResult: Sendable {
    public var sae: any SparseAutoencoder
    public var final: SAEProgress
    public var skipped: [String: Int]
    public var seconds: Double
    /// The step a checkpoint resumed from (nil: trained from the start).
    public var resumedFrom: Int? = nil
    /// The step training stopped after on request (``SAECheckpointing/stopAfter``), its
    /// checkpoint written; nil when it ran to the end.
    public var stoppedAfter: Int? = nil
}

/// Trains an SAE from a source with Adam (one per parameter array), the schedules of the
/// config, `b_dec` initialized from the first batch (``SAEDecoderBiasInit``), dead-latent
/// tracking and, when asked, checkpoints that resume bit for bit (``SAECheckpoint``).
/// A source with targets (``SAETrainingSource/targetWidth``) trains a transcoder: the output
/// reconstructs the target rows, `b_dec` starts at their mean, and the input is not centred.
public enum SAETrainer {
    /// Trains; `progress` is called every `progressEvery` steps and after the last. With
    /// `checkpoint`, a checkpoint there is resumed from (refused when its config or data
    /// differ), and one is written every `checkpoint.every` steps (``SAECheckpoint``).
    ///
    /// With a `communicator` of several ranks (MPI), training is data-parallel: every rank
    /// builds the same source, reads every batch and trains on its block of each batch's rows
    /// (``SAEBatchShare``); the ranks sum the gradient and take the same steps, so each ends
    /// with the weights one process gets (up to the order of summation). Only rank 0 writes
    /// checkpoints and calls `progress`. Ranks given different settings or sources are refused.
    /// - Throws: ``SAEError`` for a bad config, an empty source, non-finite rows or a
    ///   checkpoint that does not fit; under MPI every rank throws when one does
    ///   (``Cluster/Communicator/agreeOnErrors(_:)``), and ``Cluster/ClusterError`` for ranks
    ///   that differ.
    public static func train(source: inout some SAETrainingSource, config: SAETrainingConfig, checkpoint: SAECheckpointing? = nil,
                             communicator: Communicator = .single, progress: (SAEProgress) -> Void = { _ in }) throws -> SAETrainingResult {
        let d = source.width, dOut = source.targetWidth, lead = communicator.rank == 0
        try communicator.agree(on: try settings(config, width: d, targetWidth: dOut, identity: source.identity), what: "settings or rows")
        let share = try communicator.agreeOnErrors { () throws -> SAEBatchShare? in
            try config.validate(width: d)
            if let dOut, dOut != d {
                throw SAEError.widthMismatch(expected: d, found: dOut, what: "target width (this Loupe trains transcoders with d_out = d_in)")
            }
            if config.skip && dOut == nil { throw SAEError.badSize("a skip term (--skip) needs a transcoder: give a target hook") }
            return communicator.size > 1 ? try SAEBatchShare(communicator: communicator, globalRows: config.batchSize) : nil
        }
        var epoch = 0
        // Full batches always: a pass's short last batch is topped up from the next pass.
        func next() throws -> (Tensor, Tensor?) {
            var rows: [Float] = [], targets: [Float] = []
            while rows.count < config.batchSize * d {
                var b = try source.nextPairedBatch(rows: config.batchSize - rows.count / d)
                if b == nil {
                    epoch += 1
                    try source.startPass(epoch)
                    b = try source.nextPairedBatch(rows: config.batchSize - rows.count / d)
                }
                guard let b else { throw SAEError.noRows("the training source has no rows") }
                rows += b.input.scalars
                if let t = b.target { targets += t.scalars }
            }
            let target = dOut.map { Tensor(shape: [config.batchSize, $0], scalars: targets) }
            let batch = Tensor(shape: [config.batchSize, d], scalars: rows)
            // Under MPI a rank meets only its own rows: the whole batch is checked on every
            // rank, so a bad row fails every rank alike (with the row one process names).
            if share != nil {
                if let bad = rows.firstIndex(where: { !$0.isFinite }) { throw SAEError.nonFinite(row: bad / d, what: "activation matrix") }
                if let dOut, let bad = targets.firstIndex(where: { !$0.isFinite }) { throw SAEError.nonFinite(row: bad / dOut, what: "target matrix") }
            }
            return (batch, target)
        }
        var run: SAETrainingRun, first: (Tensor, Tensor?)?, resumedFrom: Int?
        (run, first, resumedFrom) = try communicator.agreeOnErrors {
            if let checkpoint, let saved = try SAECheckpoint.read(at: checkpoint.path) {
                try saved.check(config: config, width: d, targetWidth: dOut, identity: source.identity, path: checkpoint.path)
                let run = try SAETrainingRun(restoring: saved, config: config)
                try source.restore(saved.source)
                epoch = saved.epoch
                if lead { checkpoint.resumed(saved.step, config.steps) }
                return (run, nil, saved.step)
            }
            try source.startPass(0)
            let (batch, target) = try next()
            let run = try SAETrainingRun(config: config, width: d, targetWidth: dOut, firstBatch: target ?? batch,
                                         skipSample: target.map { (batch, $0) })
            return (run, (batch, target), nil)
        }
        while run.step < config.steps {
            let (batch, target) = try first ?? communicator.agreeOnErrors(next)
            first = nil
            if let report = try run.step(batch, target: target, share: share), lead { progress(report) }
            guard let checkpoint, run.step < config.steps else { continue }
            let stop = checkpoint.stopAfter == run.step
            if stop || (checkpoint.every > 0 && run.step % checkpoint.every == 0) {
                try communicator.agreeOnErrors {
                    guard lead else { return }
                    try SAECheckpoint(run: run, source: source.checkpointState(), epoch: epoch, identity: source.identity).write(to: checkpoint.path)
                }
            }
            if stop {
                let last = run.report() ?? run.last
                guard let last else { throw SAEError.noRows("training ran no steps") }
                return SAETrainingResult(sae: run.sae, final: last, skipped: source.skipped, seconds: run.seconds,
                                         resumedFrom: resumedFrom, stoppedAfter: run.step)
            }
        }
        guard let last = run.last else { throw SAEError.noRows("training ran no steps") }
        return SAETrainingResult(sae: run.sae, final: last, skipped: source.skipped, seconds: run.seconds, resumedFrom: resumedFrom)
    }

    /// What every rank of a job must agree on: the config, the widths and the source's identity.
    static func settings(_ config: SAETrainingConfig, width: Int, targetWidth: Int?, identity: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(config), as: UTF8.self)
        return text + " width \(width) target \(targetWidth ?? 0) " + identity.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    /// A fresh SAE of the config's architecture, `b_dec` at the mean (or `bDecInit`) of
    /// `firstBatch` (a transcoder's: of its first target batch).
    static func makeSAE(config: SAETrainingConfig, width d: Int, firstBatch: Tensor, transcoder: Bool = false,
                        skipSample: (input: Tensor, target: Tensor)? = nil) throws -> any SparseAutoencoder {
        var p = try SAEParameters.initialized(width: d, latents: config.latents,
                                              decoderNorm: [SAEArchitecture.standard, .jumprelu].contains(config.architecture) ? 0.1 : 1,
                                              seed: config.seed &+ 1)
        p.isTranscoder = transcoder
        if config.skip { p.wSkip = [Float](repeating: 0, count: p.outputWidth * d) }
        let n = firstBatch.shape[0]
        switch config.bDecInit {
        case .mean: for r in 0..<n { for j in 0..<d { p.bDec[j] += firstBatch.scalars[r * d + j] / Float(n) } }
        case .geometricMedian: p.bDec = GeometricMedian.of(firstBatch.scalars, rows: n, width: d).median.map(Float.init)
        case .zeros: break
        }
        if config.skip, config.skipFromData, let skipSample {
            (p.wSkip, p.bDec) = try SkipFit.leastSquares(input: skipSample.input, target: skipSample.target)
        }
        switch config.architecture {
        case .standard: return StandardSAE(parameters: p)
        case .topk: return try TopKSAE(parameters: p, k: config.k, auxK: config.auxK, auxAlpha: config.auxAlpha)
        case .jumprelu:
            p.threshold = [Float](repeating: config.initialThreshold, count: config.latents)
            return try JumpReLUSAE(parameters: p, bandwidth: config.bandwidth)
        case .batchtopk, .matryoshka:
            let base = try BatchTopKSAE(parameters: p, k: config.k, auxK: config.auxK, auxAlpha: config.auxAlpha,
                                        thresholdRate: config.thresholdRate)
            guard config.architecture == .matryoshka else { return base }
            return try MatryoshkaSAE(base: base, widths: config.matryoshkaWidths ?? MatryoshkaSAE.defaultWidths(latents: config.latents, k: config.k))
        }
    }

    /// Sums over the steps since the last report.
    struct Window: Codable {
        var steps = 0, rows = 0
        var loss = 0.0, mse = 0.0, l0 = 0.0, squared = 0.0, variance = 0.0
        mutating func add(_ s: SAEBatchStats) {
            steps += 1
            rows += s.rows
            loss += s.loss * Double(s.rows)
            mse += s.mse * Double(s.rows)
            l0 += s.l0 * Double(s.rows)
            squared += s.squaredError
            variance += s.totalVariance
        }
        func report(step: Int, steps total: Int, tokens: Int, dead: Double, seconds: Double) -> SAEProgress {
            let n = Double(max(rows, 1))
            return SAEProgress(step: step, steps: total, tokens: tokens, loss: loss / n, mse: mse / n, l0: l0 / n,
                               explainedVariance: variance > 0 ? 1 - squared / variance : 0, deadFraction: dead,
                               tokensPerSecond: seconds > 0 ? Double(tokens) / seconds : 0)
        }
    }
}
