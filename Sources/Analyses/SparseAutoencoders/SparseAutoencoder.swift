import Linalg

/// What a loss evaluation needs besides the batch: the sparsity coefficient in force (after
/// warm-up) and, for architectures with an auxiliary loss, which latents count as dead.
public struct SAELossOptions: Sendable {
    /// Standard: the L1 coefficient λ. Ignored by TopK.
    public var sparsityCoefficient: Float
    /// Per latent, whether it is dead (not fired in the trainer's window); nil: none are.
    public var dead: [Bool]?
    /// Under MPI: the batch is this rank's block of a global batch (``SAEBatchShare``), and
    /// what spans rows of the whole batch (BatchTopK's selection) is agreed over the ranks.
    public var share: SAEBatchShare?

    public init(sparsityCoefficient: Float = 0, dead: [Bool]? = nil, share: SAEBatchShare? = nil) {
        self.sparsityCoefficient = sparsityCoefficient
        self.dead = dead
        self.share = share
    }
}

/// One batch's numbers: the loss and its parts (means over rows), L0, and what the trainer
/// needs for explained variance and dead-latent tracking.
public struct SAEBatchStats: Sendable {
    /// Rows in the batch.
    public var rows: Int
    /// The loss minimized: `mse + sparsity` (or `+ auxiliary`).
    public var loss: Double
    /// Mean over rows of `|x - x̂|²`.
    public var mse: Double
    /// The penalty: λ Σ f_i |W_dec,i| (standard) or the auxiliary-k loss (TopK), row mean.
    public var penalty: Double
    /// Mean number of latents active per row.
    public var l0: Double
    /// `Σ |x - x̂|²` and `Σ |x - mean(x)|²` over the batch (explained variance = 1 - ratio).
    public var squaredError: Double
    public var totalVariance: Double
    /// Per latent, how many rows it fired on.
    public var fired: [Int32]
    /// BatchTopK: the smallest activation kept in the batch (nil when none or not BatchTopK).
    public var smallestActive: Float? = nil
}

/// A sparse autoencoder over rows of width `d_in` with `d_sae` latents, in SAELens's layout
/// (``SAEParameters``); encoding subtracts `b_dec` from the input first
/// (`apply_b_dec_to_input`). Architectures differ in the encoder's nonlinearity and the loss.
public protocol SparseAutoencoder: Sendable {
    /// SAELens's `architecture` value (`standard`, `topk`, `jumprelu`, `batchtopk`,
    /// `matryoshka_batchtopk`; the last two are saved as `jumprelu`).
    var architecture: String { get }
    /// The weights (and the shape of gradients).
    var parameters: SAEParameters { get set }
    /// Latents `[rows, d_sae]` of `x` `[rows, d_in]`.
    func encode(_ x: Tensor) throws -> Tensor
    /// The loss on batch `x` `[rows, d_in]` and its gradient with respect to every parameter.
    /// `target` `[rows, d_out]` is what the output reconstructs (a transcoder's target hook,
    /// e.g. the MLP output for the MLP input `x`); nil: `x` itself (a plain SAE).
    func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters)
    /// Edits a gradient before the optimizer step (TopK: removes the part along decoder rows).
    func constrainGradient(_ gradient: inout SAEParameters)
    /// Restores constraints after a step (TopK: decoder rows at unit norm).
    mutating func constrainParameters()
    /// Per-architecture state updated from a training batch's statistics (BatchTopK: the
    /// threshold estimate); called once per step before the optimizer step.
    mutating func observe(_ stats: SAEBatchStats)
    /// The per-latent JumpReLU threshold inference uses (saved as SAELens `threshold` with
    /// `architecture: jumprelu`); nil for architectures without one.
    var inferenceThreshold: [Float]? { get }
}

extension SparseAutoencoder {
    /// `d_in`.
    public var width: Int { parameters.width }
    /// `d_sae`.
    public var latents: Int { parameters.latents }

    /// The loss of a plain SAE (the target is `x`).
    public func lossAndGradients(_ x: Tensor, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try lossAndGradients(x, target: nil, options: options)
    }

    /// Whether this is a transcoder (``SAEParameters/isTranscoder``).
    public var isTranscoder: Bool { parameters.isTranscoder }

    public func constrainGradient(_ gradient: inout SAEParameters) {}
    public mutating func constrainParameters() {}
    public mutating func observe(_ stats: SAEBatchStats) {}
    public var inferenceThreshold: [Float]? { nil }

    /// Reconstructions `[rows, d_in]` of latents `f` `[rows, d_sae]`: `f · W_dec + b_dec`.
    public func decode(_ f: Tensor) throws -> Tensor {
        guard f.rank == 2, f.shape[1] == latents else {
            throw SAEError.widthMismatch(expected: latents, found: f.rank == 2 ? f.shape[1] : f.count, what: "latent matrix \(f.shape)")
        }
        let n = f.shape[0], d = width, m = latents
        var out = Tensor(shape: [n, d], scalars: (0..<n).flatMap { _ in parameters.bDec })
        f.withUnsafeBufferPointer { a in
            parameters.wDec.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: n, n: d, k: m, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, beta: 1)
                }
            }
        }
        return out
    }

    /// The output `[rows, d_out]` for input `x` `[rows, d_in]`: `decode(encode(x))`, plus
    /// `x · W_skipᵀ` for a transcoder with a skip term. For a plain SAE, the reconstruction.
    public func output(_ x: Tensor) throws -> Tensor {
        let f = try encode(x)
        var out = try decode(f)
        if parameters.hasSkip {
            let (n, d) = (x.shape[0], width)
            x.withUnsafeBufferPointer { a in
                parameters.wSkip.withUnsafeBufferPointer { w in
                    out.withUnsafeMutableBufferPointer { c in
                        BLAS.gemmTransposedB(m: n, n: parameters.outputWidth, k: d, a: a.baseAddress!, b: w.baseAddress!, c: c.baseAddress!, beta: 1)
                    }
                }
            }
        }
        return out
    }

    /// The start of the residual `ŷ - y` before the latents' decoder rows are added, per row:
    /// `b_dec + x · W_skipᵀ - y` `[rows, d_out]` (`y` the target, or `x` without one), and
    /// `y`'s total variance (``Linalg/Tensor/totalVarianceOfRows``).
    /// - Throws: ``SAEError`` when the target is not `[rows, d_out]` or holds NaN/infinity.
    func residualBase(_ x: Tensor, target: Tensor?) throws -> (base: [Float], variance: Double) {
        let n = x.shape[0], dOut = parameters.outputWidth
        if let target {
            guard target.rank == 2, target.shape[0] == n, target.shape[1] == dOut else {
                throw SAEError.widthMismatch(expected: dOut, found: target.rank == 2 ? target.shape[1] : target.count,
                                             what: "target matrix \(target.shape) for \(n) input rows")
            }
            if let bad = target.scalars.firstIndex(where: { !$0.isFinite }) { throw SAEError.nonFinite(row: bad / dOut, what: "target matrix") }
        }
        let y = target ?? x
        var base = [Float](repeating: 0, count: n * dOut)
        let bDec = parameters.bDec
        y.withUnsafeBufferPointer { yp in
            for r in 0..<n { for j in 0..<dOut { base[r * dOut + j] = bDec[j] - yp[r * dOut + j] } }
        }
        if parameters.hasSkip {
            x.withUnsafeBufferPointer { a in
                parameters.wSkip.withUnsafeBufferPointer { w in
                    base.withUnsafeMutableBufferPointer { c in
                        BLAS.gemmTransposedB(m: n, n: dOut, k: width, a: a.baseAddress!, b: w.baseAddress!, c: c.baseAddress!, beta: 1)
                    }
                }
            }
        }
        return (base, y.totalVarianceOfRows)
    }

    /// The residual `ŷ - y = f · W_dec + base` `[rows, d_out]` of dense latents `f` `[rows, d_sae]`
    /// (`base` from ``residualBase(_:target:)``) and its squared sum.
    func denseResidual(_ f: [Float], rows n: Int, base: [Float]) -> (residual: [Float], squared: Double) {
        var r = base
        f.withUnsafeBufferPointer { a in
            parameters.wDec.withUnsafeBufferPointer { b in
                r.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: n, n: parameters.outputWidth, k: latents, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, beta: 1)
                }
            }
        }
        var squared = 0.0
        for v in r { squared += Double(v) * Double(v) }
        return (r, squared)
    }

    /// The output-side gradients of `gOut` = dL/dŷ `[rows, d_out]`: `b_dec += Σ gOut` and, with a
    /// skip term, `W_skip += gOutᵀ x`.
    func addOutputGradients(gOut: [Float], x: Tensor, into g: inout SAEParameters) {
        let n = x.shape[0], dOut = parameters.outputWidth
        for r in 0..<n { for c in 0..<dOut { g.bDec[c] += gOut[r * dOut + c] } }
        guard parameters.hasSkip else { return }
        if g.wSkip.count != parameters.wSkip.count { g.wSkip = [Float](repeating: 0, count: parameters.wSkip.count) }
        gOut.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { b in
                g.wSkip.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedA(m: dOut, n: width, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, beta: 1)
                }
            }
        }
    }

    /// Latents `[rows, d_sae]` of a `[rows, d_in]` matrix of any size, `batchSize` rows at a time.
    /// - Throws: ``SAEError`` naming `what` when `x` is not `[rows, d_in]` or holds NaN/infinity.
    public func encode(rows x: Tensor, batchSize: Int = 4096, what: String = "input") throws -> Tensor {
        guard x.rank == 2, x.shape[1] == width else {
            throw SAEError.widthMismatch(expected: width, found: x.rank == 2 ? x.shape[1] : x.count, what: "\(what) of shape \(x.shape)")
        }
        let n = x.shape[0]
        let (total, overflow) = n.multipliedReportingOverflow(by: latents)
        guard !overflow else { throw SAEError.badSize("\(what): \(n) rows x d_sae \(latents) latents overflow") }
        var out: [Float] = []
        out.reserveCapacity(total)
        for start in stride(from: 0, to: n, by: max(batchSize, 1)) {
            do { out += try encode(x.rows(start..<min(n, start + batchSize))).scalars } catch SAEError.nonFinite(let row, _) {
                throw SAEError.nonFinite(row: start + row, what: what)
            }
        }
        return Tensor(shape: [n, latents], scalars: out)
    }

    /// Checks `x` is `[rows, d_in]` with finite values.
    func checkInput(_ x: Tensor) throws {
        guard x.rank == 2, x.shape[1] == width else {
            throw SAEError.widthMismatch(expected: width, found: x.rank == 2 ? x.shape[1] : x.count, what: "activation matrix \(x.shape)")
        }
        if let bad = x.scalars.firstIndex(where: { !$0.isFinite }) { throw SAEError.nonFinite(row: bad / width, what: "activation matrix") }
    }

    /// The encoder's pre-activations `(x - b_dec) · W_enc + b_enc` `[rows, d_sae]` and the
    /// centred input `x - b_dec` `[rows, d_in]` (a transcoder's input is not centred: `x`).
    func preActivations(_ x: Tensor) -> (pre: [Float], centred: [Float]) {
        let n = x.shape[0], d = width, m = latents
        var centred = x.scalars
        let bDec = parameters.bDec
        if !parameters.isTranscoder { for r in 0..<n { for j in 0..<d { centred[r * d + j] -= bDec[j] } } }
        // Every row starts at b_enc (rows filled in parallel), then sgemm adds the product.
        var pre = [Float](unsafeUninitializedCapacity: n * m) { out, initialized in
            parameters.bEnc.withUnsafeBufferPointer { b in
                nonisolated(unsafe) let (out, b) = (out, b)
                SAEKernels.blocks(n) { rows in
                    for r in rows { (out.baseAddress! + r * m).initialize(from: b.baseAddress!, count: m) }
                }
            }
            initialized = n * m
        }
        centred.withUnsafeBufferPointer { a in
            parameters.wEnc.withUnsafeBufferPointer { b in
                pre.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: n, n: m, k: d, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, beta: 1)
                }
            }
        }
        return (pre, centred)
    }

    /// Adds the encoder-side gradients from `gPre` `[rows, d_sae]` (dL/d pre-activation):
    /// `W_enc += centredᵀ gPre`, `b_enc += Σ gPre`, `b_dec -= W_enc · Σ gPre` (not for transcoders).
    /// `columnSums`: `Σ gPre` over rows when the caller has it (else summed here, latent columns
    /// in parallel, rows in order).
    func addEncoderGradients(gPre: [Float], centred: [Float], rows n: Int, columnSums: [Float]? = nil, into g: inout SAEParameters) {
        let d = width, m = latents
        centred.withUnsafeBufferPointer { a in
            gPre.withUnsafeBufferPointer { b in
                g.wEnc.withUnsafeMutableBufferPointer { c in
                    BLAS.gemmTransposedA(m: d, n: m, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, beta: 1)
                }
            }
        }
        let colSum = columnSums ?? [Float](unsafeUninitializedCapacity: m) { sums, initialized in
            gPre.withUnsafeBufferPointer { gPre in
                nonisolated(unsafe) let (sums, gp) = (sums.baseAddress!, gPre.baseAddress!)
                SAEKernels.blocks(m, maxBlocks: 16) { columns in
                    for i in columns { sums[i] = 0 }
                    for r in 0..<n { for i in columns { sums[i] += gp[r * m + i] } }
                }
            }
            initialized = m
        }
        for i in 0..<m { g.bEnc[i] += colSum[i] }
        guard !parameters.isTranscoder else { return }
        var through = [Float](repeating: 0, count: d)
        parameters.wEnc.withUnsafeBufferPointer { w in
            colSum.withUnsafeBufferPointer { x in
                through.withUnsafeMutableBufferPointer { y in BLAS.gemv(n: d, k: m, w: w.baseAddress!, x: x.baseAddress!, y: y.baseAddress!) }
            }
        }
        for j in 0..<d { g.bDec[j] -= through[j] }
    }
}

extension Tensor {
    /// Σ over the rows of a `[rows, width]` matrix of `|x - mean(x)|²` (the batch's total
    /// variance times rows), in Double.
    var totalVarianceOfRows: Double {
        let n = shape[0], d = shape[1]
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mean[j] += Double(scalars[r * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var total = 0.0
        for r in 0..<n { for j in 0..<d { let e = Double(scalars[r * d + j]) - mean[j]; total += e * e } }
        return total
    }
}
