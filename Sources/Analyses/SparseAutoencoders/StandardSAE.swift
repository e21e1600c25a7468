import Linalg

/// The standard ReLU SAE with Anthropic's April 2024 recipe (SAELens `standard`):
/// `f = ReLU((x - b_dec) W_enc + b_enc)`, `x̂ = f W_dec + b_dec`, and the loss
/// `|x - x̂|² + λ Σ_i f_i |W_dec,i|` averaged over rows (the L1 penalty weighted by decoder row
/// norms, so shrinking the decoder cannot buy sparsity; decoder rows are not constrained).
public struct StandardSAE: SparseAutoencoder {
    public var parameters: SAEParameters
    public var architecture: String { "standard" }

    public init(parameters: SAEParameters) { self.parameters = parameters }

    public func encode(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        var (pre, _) = preActivations(x)
        for i in pre.indices where pre[i] < 0 { pre[i] = 0 }
        return Tensor(shape: [x.shape[0], latents], scalars: pre)
    }

    public func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0], d = width, m = latents
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        var (f, centred) = preActivations(x)
        for i in f.indices where f[i] < 0 { f[i] = 0 }
        let norms = parameters.decoderNorms
        let lambda = options.sparsityCoefficient
        // Output ŷ = f W_dec + b_dec (+ x W_skipᵀ), then r = ŷ - y (y = x for a plain SAE).
        let (base, variance) = try residualBase(x, target: target)
        let dense = denseResidual(f, rows: n, base: base)
        var r = dense.residual
        let squared = dense.squared
        var penalty = 0.0, active = 0
        var fired = [Int32](repeating: 0, count: m)
        var fSum = [Float](repeating: 0, count: m)
        for row in 0..<n {
            for i in 0..<m where f[row * m + i] > 0 {
                penalty += Double(f[row * m + i]) * Double(norms[i])
                fSum[i] += f[row * m + i]
                fired[i] += 1
                active += 1
            }
        }
        penalty *= Double(lambda) / Double(n)
        let mse = squared / Double(n)
        // Gradients: dL/dx̂ = 2r/n.
        var g = try SAEParameters(width: d, latents: m)
        let scale = 2 / Float(n)
        for i in r.indices { r[i] *= scale }
        addOutputGradients(gOut: r, x: x, into: &g)
        // W_dec: fᵀ (2r/n) plus the penalty's λ/n Σ_rows f_i · W_dec,i / |W_dec,i|.
        f.withUnsafeBufferPointer { a in
            r.withUnsafeBufferPointer { b in
                g.wDec.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedA(m: m, n: d, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        for i in 0..<m where fSum[i] > 0 && norms[i] > 0 {
            let c = lambda * fSum[i] / Float(n) / norms[i]
            for j in 0..<d { g.wDec[i * d + j] += c * parameters.wDec[i * d + j] }
        }
        // dL/df = (2r/n) W_decᵀ + λ/n |W_dec,i|, through the ReLU.
        var gPre = [Float](repeating: 0, count: n * m)
        r.withUnsafeBufferPointer { a in
            parameters.wDec.withUnsafeBufferPointer { b in
                gPre.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedB(m: n, n: m, k: d, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        let penaltyGrad = norms.map { lambda * $0 / Float(n) }
        for row in 0..<n {
            for i in 0..<m { gPre[row * m + i] = f[row * m + i] > 0 ? gPre[row * m + i] + penaltyGrad[i] : 0 }
        }
        addEncoderGradients(gPre: gPre, centred: centred, rows: n, into: &g)
        let stats = SAEBatchStats(rows: n, loss: mse + penalty, mse: mse, penalty: penalty, l0: Double(active) / Double(n),
                                  squaredError: squared, totalVariance: variance, fired: fired)
        return (stats, g)
    }
}
