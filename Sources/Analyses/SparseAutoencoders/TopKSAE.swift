import Linalg

/// The TopK SAE (Gao et al. 2024; SAELens `topk`): `f = TopK_k(ReLU((x - b_dec) W_enc + b_enc))`
/// keeps each row's k largest activations, `x̂ = f W_dec + b_dec` with decoder rows at unit norm,
/// and the loss is `|x - x̂|²` plus `α · min(dead / k_aux, 1) · |ê - e|²` (row means), the
/// auxiliary-k loss: `ê` reconstructs the main residual `e = x - x̂` (held constant) from the
/// `k_aux` largest activations among dead latents alone, so they get gradient again.
///
/// The decoder and its gradient touch only the k active rows per input row (and the `k_aux`
/// auxiliary ones); the encoder's forward product is one dense sgemm, its gradient sparse.
public struct TopKSAE: SparseAutoencoder {
    public var parameters: SAEParameters
    /// Active latents per row.
    public let k: Int
    /// Latents the auxiliary loss uses per row (Gao et al.: `d_in / 2`).
    public var auxK: Int
    /// Weight of the auxiliary loss (Gao et al.: 1/32).
    public var auxAlpha: Float
    public var architecture: String { "topk" }

    /// - Throws: ``SAEError/badSize(_:)`` unless `1 <= k <= d_sae`.
    public init(parameters: SAEParameters, k: Int, auxK: Int? = nil, auxAlpha: Float = 1.0 / 32) throws {
        guard k >= 1, k <= parameters.latents else { throw SAEError.badSize("TopK k \(k) must be in 1...\(parameters.latents) (d_sae)") }
        self.parameters = parameters
        self.k = k
        self.auxK = max(1, min(auxK ?? parameters.width / 2, parameters.latents))
        self.auxAlpha = auxAlpha
    }

    public func encode(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        let n = x.shape[0], m = latents
        let (pre, _) = preActivations(x)
        let (idx, val) = TopKSelection.select(pre, rows: n, columns: m, k: k)
        var out = [Float](repeating: 0, count: n * m)
        for r in 0..<n { for j in 0..<k where val[r * k + j] > 0 { out[r * m + Int(idx[r * k + j])] = val[r * k + j] } }
        return Tensor(shape: [n, m], scalars: out)
    }

    public func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0], d = width, m = latents
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        let (pre, centred) = preActivations(x)
        let (idx, val) = TopKSelection.select(pre, rows: n, columns: m, k: k)
        let (start, variance) = try residualBase(x, target: target)
        var r = start   // ŷ - y once the decoder rows are added
        sparseDecode(idx, val, rows: n, slots: k, into: &r)
        var squared = 0.0
        for v in r { squared += Double(v) * Double(v) }
        var g = try SAEParameters(width: d, latents: m)
        let gOut = r.map { $0 * 2 / Float(n) }
        addOutputGradients(gOut: gOut, x: x, into: &g)
        var entries: [(row: Int, latent: Int, grad: Float)] = []
        let gMain = sparseDecodeBackward(idx, val, rows: n, slots: k, gOut: gOut, into: &g)
        for s in gMain.indices where val[s] > 0 { entries.append((s / k, Int(idx[s]), gMain[s])) }
        // Auxiliary-k loss on dead latents against the residual e = x - x̂ = -r.
        let aux = auxiliaryLoss(pre: pre, residual: r, rows: n, dead: options.dead, auxK: auxK, alpha: auxAlpha, into: &g, entries: &entries)
        addSparseEncoderGradients(entries, centred: centred, into: &g)
        var fired = [Int32](repeating: 0, count: m)
        var active = 0
        for s in val.indices where val[s] > 0 { fired[Int(idx[s])] += 1; active += 1 }
        let mse = squared / Double(n)
        let stats = SAEBatchStats(rows: n, loss: mse + aux, mse: mse, penalty: aux, l0: Double(active) / Double(n),
                                  squaredError: squared, totalVariance: variance, fired: fired)
        return (stats, g)
    }

    /// Removes from each decoder row's gradient its component along that row.
    public func constrainGradient(_ gradient: inout SAEParameters) { projectDecoderGradient(&gradient) }

    /// Rescales every decoder row to unit norm.
    public mutating func constrainParameters() { normalizeDecoderRows() }
}
