import Linalg

/// The JumpReLU SAE (Rajamanoharan et al. 2024; SAELens `jumprelu`): `f_i = pre_i · H(pre_i - θ_i)`
/// with a learned threshold `θ_i > 0` per latent (`parameters.threshold`), `x̂ = f W_dec + b_dec`,
/// and the loss `|x - x̂|² + λ · L0` (row means, `L0 = Σ_i H(pre_i - θ_i)`).
///
/// The step function has no useful derivative, so θ gets the paper's straight-through
/// pseudo-derivatives with the rectangle kernel `K(z) = 1` for `|z| < 1/2` and bandwidth ε:
/// `∂f_i/∂θ_i = -(θ_i/ε) K((pre_i - θ_i)/ε)` and `∂H(pre_i - θ_i)/∂θ_i = -(1/ε) K((pre_i - θ_i)/ε)`.
/// The pre-activations get the exact `∂f_i/∂pre_i = H(pre_i - θ_i)` and nothing from the L0 term.
/// The gradient returned in `threshold` is with respect to θ; the trainer steps `log θ`
/// (SAELens's `log_threshold`) with it times θ. Decoder rows are not constrained.
public struct JumpReLUSAE: SparseAutoencoder {
    public var parameters: SAEParameters
    /// ε, the kernel's bandwidth (SAELens `jumprelu_bandwidth`, 0.001).
    public var bandwidth: Float
    public var architecture: String { "jumprelu" }
    public var inferenceThreshold: [Float]? { parameters.threshold }

    /// - Throws: ``SAEError/badSize(_:)`` unless `threshold` has `d_sae` finite values and the
    ///   bandwidth is positive.
    public init(parameters: SAEParameters, bandwidth: Float = 0.001) throws {
        guard parameters.threshold.count == parameters.latents else {
            throw SAEError.badSize("JumpReLU threshold has \(parameters.threshold.count) values, expected d_sae \(parameters.latents)")
        }
        if let i = parameters.threshold.firstIndex(where: { !$0.isFinite }) {
            throw SAEError.badSize("JumpReLU threshold of latent \(i) is \(parameters.threshold[i])")
        }
        guard bandwidth > 0, bandwidth.isFinite else { throw SAEError.badSize("JumpReLU bandwidth \(bandwidth) must be positive") }
        self.parameters = parameters
        self.bandwidth = bandwidth
    }

    /// `f_i = pre_i` where `pre_i > θ_i` (and `> 0`, SAELens's ReLU before the mask), else 0.
    public func encode(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        let m = latents, t = parameters.threshold
        var (pre, _) = preActivations(x)
        for row in 0..<x.shape[0] { for i in 0..<m where !(pre[row * m + i] > t[i] && pre[row * m + i] > 0) { pre[row * m + i] = 0 } }
        return Tensor(shape: [x.shape[0], m], scalars: pre)
    }

    public func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0], d = width, m = latents
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        let t = parameters.threshold, eps = bandwidth, lambda = options.sparsityCoefficient
        let (pre, centred) = preActivations(x)
        var f = pre
        var fired = [Int32](repeating: 0, count: m)
        var active = 0
        for row in 0..<n {
            for i in 0..<m {
                if pre[row * m + i] > t[i] && pre[row * m + i] > 0 { fired[i] += 1; active += 1 } else { f[row * m + i] = 0 }
            }
        }
        let (base, variance) = try residualBase(x, target: target)
        let dense = denseResidual(f, rows: n, base: base)
        var r = dense.residual
        let squared = dense.squared
        var g = try SAEParameters(width: d, latents: m)
        g.threshold = [Float](repeating: 0, count: m)
        for i in r.indices { r[i] *= 2 / Float(n) }  // dL/dx̂
        addOutputGradients(gOut: r, x: x, into: &g)
        f.withUnsafeBufferPointer { a in
            r.withUnsafeBufferPointer { b in
                g.wDec.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedA(m: m, n: d, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        // dL/df = (2r/n) W_decᵀ; through the JumpReLU to pre (exact) and θ (pseudo-derivative).
        var gF = [Float](repeating: 0, count: n * m)
        r.withUnsafeBufferPointer { a in
            parameters.wDec.withUnsafeBufferPointer { b in
                gF.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedB(m: n, n: m, k: d, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        let l0Grad = lambda / Float(n)
        for row in 0..<n {
            for i in 0..<m {
                let p = pre[row * m + i], z = (p - t[i]) / eps
                if z > -0.5 && z < 0.5 { g.threshold[i] -= (t[i] * gF[row * m + i] + l0Grad) / eps }
                if f[row * m + i] == 0 { gF[row * m + i] = 0 }
            }
        }
        addEncoderGradients(gPre: gF, centred: centred, rows: n, into: &g)
        let mse = squared / Double(n), l0 = Double(active) / Double(n)
        let penalty = Double(lambda) * l0
        let stats = SAEBatchStats(rows: n, loss: mse + penalty, mse: mse, penalty: penalty, l0: l0,
                                  squaredError: squared, totalVariance: variance, fired: fired)
        return (stats, g)
    }
}
