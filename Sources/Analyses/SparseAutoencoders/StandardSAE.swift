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
        let norms = parameters.decoderNorms
        let lambda = options.sparsityCoefficient
        // ReLU in place, and per latent its firing count and activation sum (Float for the
        // decoder gradient, Double for the penalty): latent columns in parallel, rows in order.
        let sums = LatentSums(latents: m)
        defer { sums.deallocate() }
        f.withUnsafeMutableBufferPointer { f in
            nonisolated(unsafe) let f = f.baseAddress!
            SAEKernels.blocks(m, maxBlocks: 16) { columns in
                for row in 0..<n {
                    let fr = f + row * m
                    for i in columns {
                        if fr[i] > 0 {
                            sums.float[i] += fr[i]
                            sums.wide[i] += Double(fr[i])
                            sums.count[i] += 1
                        } else {
                            fr[i] = 0
                        }
                    }
                }
            }
        }
        let fired = Array(UnsafeBufferPointer(start: sums.count, count: m))
        let fSum = Array(UnsafeBufferPointer(start: sums.float, count: m))
        var penalty = 0.0, active = 0
        for i in 0..<m {
            penalty += sums.wide[i] * Double(norms[i])
            active += Int(fired[i])
        }
        penalty *= Double(lambda) / Double(n)
        // Output ŷ = f W_dec + b_dec (+ x W_skipᵀ), then r = ŷ - y (y = x for a plain SAE).
        let (base, variance) = try residualBase(x, target: target)
        let dense = denseResidual(f, rows: n, base: base)
        var r = dense.residual
        let squared = dense.squared
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
        parameters.wDec.withUnsafeBufferPointer { w in
            g.wDec.withUnsafeMutableBufferPointer { gw in
                nonisolated(unsafe) let (w, gw) = (w.baseAddress!, gw.baseAddress!)
                SAEKernels.blocks(m) { latents in
                    for i in latents where fSum[i] > 0 && norms[i] > 0 {
                        SAEKernels.axpy(lambda * fSum[i] / Float(n) / norms[i], w + i * d, gw + i * d, d)
                    }
                }
            }
        }
        // dL/df = (2r/n) W_decᵀ + λ/n |W_dec,i|, through the ReLU (sgemm writes every entry:
        // beta 0, so the array starts uninitialized).
        var gPre = [Float](unsafeUninitializedCapacity: n * m) { _, initialized in initialized = n * m }
        r.withUnsafeBufferPointer { a in
            parameters.wDec.withUnsafeBufferPointer { b in
                gPre.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedB(m: n, n: m, k: d, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        let penaltyGrad = norms.map { lambda * $0 / Float(n) }
        let colSums = LatentSums(latents: m)
        defer { colSums.deallocate() }
        f.withUnsafeBufferPointer { f in
            gPre.withUnsafeMutableBufferPointer { gPre in
                nonisolated(unsafe) let (f, gp) = (f.baseAddress!, gPre.baseAddress!)
                SAEKernels.blocks(m, maxBlocks: 16) { columns in
                    for row in 0..<n {
                        let fr = f + row * m, gr = gp + row * m
                        for i in columns {
                            gr[i] = fr[i] > 0 ? gr[i] + penaltyGrad[i] : 0
                            colSums.float[i] += gr[i]
                        }
                    }
                }
            }
        }
        let colSum = Array(UnsafeBufferPointer(start: colSums.float, count: m))
        addEncoderGradients(gPre: gPre, centred: centred, rows: n, columnSums: colSum, into: &g)
        let stats = SAEBatchStats(rows: n, loss: mse + penalty, mse: mse, penalty: penalty, l0: Double(active) / Double(n),
                                  squaredError: squared, totalVariance: variance, fired: fired)
        return (stats, g)
    }
}

/// Per-latent accumulators the column-parallel passes write (each latent by one thread).
private struct LatentSums: @unchecked Sendable {
    let float: UnsafeMutablePointer<Float>
    let wide: UnsafeMutablePointer<Double>
    let count: UnsafeMutablePointer<Int32>

    init(latents m: Int) {
        float = .allocate(capacity: m)
        float.initialize(repeating: 0, count: m)
        wide = .allocate(capacity: m)
        wide.initialize(repeating: 0, count: m)
        count = .allocate(capacity: m)
        count.initialize(repeating: 0, count: m)
    }

    func deallocate() {
        float.deallocate()
        wide.deallocate()
        count.deallocate()
    }
}
