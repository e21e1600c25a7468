import Linalg

/// The BatchTopK SAE (Bussmann et al. 2024; SAELens `batchtopk`). Training keeps the `k · rows`
/// largest ReLU'd pre-activations of the whole batch (``BatchTopKSelection``), so rows share a
/// budget of k on average; the loss is `|x - x̂|²` plus TopK's auxiliary-k loss (row means),
/// decoder rows at unit norm. A global threshold tracks the smallest kept activation (an
/// exponential moving average with rate `thresholdRate`, as SAELens's `topk_threshold`), and
/// inference is a JumpReLU with that threshold for every latent: ``encode(_:)`` keeps
/// `pre > threshold`, so one row's encoding does not depend on the rest of its batch. SAELens
/// saves it as `jumprelu` with `threshold` filled with the estimate, and so does ``SAEFolder``.
///
/// The decoder and its gradient touch only the active latents of each row.
public struct BatchTopKSAE: SparseAutoencoder {
    public var parameters: SAEParameters
    /// Active latents per row on average over a batch.
    public let k: Int
    /// Latents of the auxiliary loss per row and its weight (as ``TopKSAE``).
    public var auxK: Int
    public var auxAlpha: Float
    /// The running estimate of the smallest kept activation: the inference threshold.
    public var threshold: Double
    /// The estimate's update rate per step (SAELens `topk_threshold_lr`, 0.01).
    public var thresholdRate: Double
    public var architecture: String { "batchtopk" }
    /// The JumpReLU threshold of inference, the same for every latent.
    public var inferenceThreshold: [Float]? { [Float](repeating: Float(threshold), count: latents) }

    /// - Throws: ``SAEError/badSize(_:)`` unless `1 <= k <= d_sae`.
    public init(parameters: SAEParameters, k: Int, auxK: Int? = nil, auxAlpha: Float = 1.0 / 32,
                threshold: Double = 0, thresholdRate: Double = 0.01) throws {
        guard k >= 1, k <= parameters.latents else { throw SAEError.badSize("BatchTopK k \(k) must be in 1...\(parameters.latents) (d_sae)") }
        self.parameters = parameters
        self.k = k
        self.auxK = max(1, min(auxK ?? parameters.width / 2, parameters.latents))
        self.auxAlpha = auxAlpha
        self.threshold = threshold
        self.thresholdRate = thresholdRate
    }

    /// Inference: `f_i = pre_i` where `pre_i > threshold` (and `> 0`), else 0.
    public func encode(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        let t = Float(threshold)
        var (pre, _) = preActivations(x)
        for i in pre.indices where !(pre[i] > t && pre[i] > 0) { pre[i] = 0 }
        return Tensor(shape: [x.shape[0], latents], scalars: pre)
    }

    /// Training's encoding of a whole batch: the `k · rows` largest activations kept.
    public func encodeBatch(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        let n = x.shape[0], m = latents
        let (pre, _) = preActivations(x)
        let s = try BatchTopKSelection(pre, rows: n, columns: m, width: m, count: k * n)
        var out = [Float](repeating: 0, count: n * m)
        for r in 0..<n { for j in 0..<s.slots where s.val[r * s.slots + j] > 0 { out[r * m + Int(s.idx[r * s.slots + j])] = s.val[r * s.slots + j] } }
        return Tensor(shape: [n, m], scalars: out)
    }

    public func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0]
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        let (pre, centred) = preActivations(x)
        var g = try SAEParameters(width: width, latents: latents)
        var entries: [(row: Int, latent: Int, grad: Float)] = []
        let (base, variance) = try residualBase(x, target: target)
        let level = try prefixLoss(x, base: base, pre: pre, width: latents, share: options.share, into: &g, entries: &entries)
        let aux = auxiliaryLoss(pre: pre, residual: level.residual, rows: n, dead: options.dead, auxK: auxK, alpha: auxAlpha,
                                into: &g, entries: &entries)
        addSparseEncoderGradients(entries, centred: centred, into: &g)
        return (level.stats(rows: n, variance: variance, extra: aux), g)
    }

    /// One reconstruction from the BatchTopK of the first `width` latents, from `base`
    /// (``residualBase(_:target:)``): adds its squared error's gradient (row mean) to `g`
    /// (decoder, `b_dec`, `W_skip`) and `entries` (pre-activations). With `share`, `x` is this
    /// rank's block of the batch and the selection keeps the `k · rows` largest of the whole batch.
    func prefixLoss(_ x: Tensor, base: [Float], pre: [Float], width w: Int, share: SAEBatchShare? = nil, into g: inout SAEParameters,
                    entries: inout [(row: Int, latent: Int, grad: Float)]) throws -> PrefixLoss {
        let n = x.shape[0]
        let s = try BatchTopKSelection(pre, rows: n, columns: latents, width: w, count: k * (share?.globalRows ?? n), share: share)
        var r = base
        sparseDecode(s.idx, s.val, rows: n, slots: s.slots, into: &r)
        var squared = 0.0
        for v in r { squared += Double(v) * Double(v) }
        let gOut = r.map { $0 * 2 / Float(n) }
        addOutputGradients(gOut: gOut, x: x, into: &g)
        let gSlot = sparseDecodeBackward(s.idx, s.val, rows: n, slots: s.slots, gOut: gOut, into: &g)
        for j in gSlot.indices where s.val[j] > 0 { entries.append((j / s.slots, Int(s.idx[j]), gSlot[j])) }
        return PrefixLoss(selection: s, residual: r, squared: squared, latents: latents)
    }

    /// Batches the threshold estimate has seen.
    public var thresholdObservations = 0

    /// Moves the threshold estimate toward the batch's smallest kept activation. The first
    /// batch sets it (SAELens starts the average at 0, which after a short run leaves the
    /// threshold far below the cut: measured, 32 steps gave an inference L0 of 312 for k 32).
    public mutating func observe(_ stats: SAEBatchStats) {
        guard let s = stats.smallestActive else { return }
        threshold = thresholdObservations == 0 ? Double(s) : (1 - thresholdRate) * threshold + thresholdRate * Double(s)
        thresholdObservations += 1
    }

    public func constrainGradient(_ gradient: inout SAEParameters) { projectDecoderGradient(&gradient) }
    public mutating func constrainParameters() { normalizeDecoderRows() }
}

/// One BatchTopK reconstruction's selection, residual `x̂ - x` and squared error.
struct PrefixLoss {
    var selection: BatchTopKSelection
    var residual: [Float]
    var squared: Double
    var latents: Int

    /// The batch's statistics (`variance`: the target's, as ``SparseAutoencoder/residualBase(_:target:)``)
    /// with `extra` (row mean) added to the loss as the penalty.
    func stats(rows n: Int, variance: Double, extra: Double) -> SAEBatchStats {
        let s = selection
        var fired = [Int32](repeating: 0, count: latents)
        var active = 0
        for j in s.val.indices where s.val[j] > 0 { fired[Int(s.idx[j])] += 1; active += 1 }
        let mse = squared / Double(n)
        return SAEBatchStats(rows: n, loss: mse + extra, mse: mse, penalty: extra, l0: Double(active) / Double(n),
                             squaredError: squared, totalVariance: variance, fired: fired,
                             smallestActive: s.smallest)
    }
}
