import Dispatch
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
        let (idx, val) = Self.topK(pre, rows: n, columns: m, k: k, allowed: nil)
        var out = [Float](repeating: 0, count: n * m)
        for r in 0..<n { for j in 0..<k where val[r * k + j] > 0 { out[r * m + Int(idx[r * k + j])] = val[r * k + j] } }
        return Tensor(shape: [n, m], scalars: out)
    }

    /// Per row, the `k` largest of `max(pre, 0)` among `allowed` columns (all when nil): indices
    /// and values `[rows, k]`; a slot whose value is 0 is inactive. Rows run in parallel.
    static func topK(_ pre: [Float], rows n: Int, columns m: Int, k: Int, allowed: [Bool]?) -> (idx: [Int32], val: [Float]) {
        var idx = [Int32](repeating: 0, count: n * k), val = [Float](repeating: 0, count: n * k)
        let chunks = min(n, 8)
        idx.withUnsafeMutableBufferPointer { idxOut in
            val.withUnsafeMutableBufferPointer { valOut in
                pre.withUnsafeBufferPointer { pre in
                    nonisolated(unsafe) let (idxOut, valOut, pre) = (idxOut, valOut, pre)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        var candidates: [(Float, Int32)] = []
                        for r in stride(from: chunk, to: n, by: chunks) {
                            selectRow(pre.baseAddress! + r * m, m: m, k: k, allowed: allowed, candidates: &candidates,
                                      idx: idxOut.baseAddress! + r * k, val: valOut.baseAddress! + r * k)
                        }
                    }
                }
            }
        }
        return (idx, val)
    }

    /// One row's selection: the positive allowed entries; all of them when they fit in `k`,
    /// else the `k` largest (a running minimum for small `k`, a sort for large `k`).
    private static func selectRow(_ row: UnsafePointer<Float>, m: Int, k: Int, allowed: [Bool]?, candidates: inout [(Float, Int32)],
                                  idx: UnsafeMutablePointer<Int32>, val: UnsafeMutablePointer<Float>) {
        candidates.removeAll(keepingCapacity: true)
        for i in 0..<m where row[i] > 0 && (allowed?[i] ?? true) { candidates.append((row[i], Int32(i))) }
        if candidates.count <= k {
            for (j, c) in candidates.enumerated() { val[j] = c.0; idx[j] = c.1 }
        } else if k <= 64 {
            var minSlot = 0
            for c in candidates {
                guard c.0 > val[minSlot] else { continue }
                val[minSlot] = c.0
                idx[minSlot] = c.1
                minSlot = 0
                for j in 1..<max(k, 1) where val[j] < val[minSlot] { minSlot = j }
            }
        } else {
            candidates.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            for j in 0..<k { val[j] = candidates[j].0; idx[j] = candidates[j].1 }
        }
    }

    /// `out[row] (+)= Σ_j val[row, j] · W_dec[idx[row, j]]` over each row's active slots.
    func sparseDecode(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, into out: inout [Float]) {
        let d = width
        parameters.wDec.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<n {
                    let dst = o.baseAddress! + r * d
                    for j in 0..<slots where val[r * slots + j] > 0 {
                        let v = val[r * slots + j], row = w.baseAddress! + Int(idx[r * slots + j]) * d
                        Self.axpy(v, row, dst, d)
                    }
                }
            }
        }
    }

    /// For a loss term with gradient `gOut` `[rows, d_in]` on a sparse decode: adds
    /// `val · gOut` to the used decoder rows, and returns dL/d(pre) per active slot.
    func sparseDecodeBackward(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, gOut: [Float],
                              into g: inout SAEParameters) -> [Float] {
        let d = width
        var gSlot = [Float](repeating: 0, count: n * slots)
        parameters.wDec.withUnsafeBufferPointer { w in
            g.wDec.withUnsafeMutableBufferPointer { gw in
                gOut.withUnsafeBufferPointer { gOut in
                    for r in 0..<n {
                        let go = gOut.baseAddress! + r * d
                        for j in 0..<slots where val[r * slots + j] > 0 {
                            let i = Int(idx[r * slots + j]), v = val[r * slots + j]
                            let wi = w.baseAddress! + i * d, gi = gw.baseAddress! + i * d
                            gSlot[r * slots + j] = Self.dot(go, wi, d)
                            Self.axpy(v, go, gi, d)
                        }
                    }
                }
            }
        }
        return gSlot
    }

    public func lossAndGradients(_ x: Tensor, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0], d = width, m = latents
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        let (pre, centred) = preActivations(x)
        let (idx, val) = Self.topK(pre, rows: n, columns: m, k: k, allowed: nil)
        var recon = (0..<n).flatMap { _ in parameters.bDec }
        sparseDecode(idx, val, rows: n, slots: k, into: &recon)
        var r = recon, squared = 0.0
        for i in r.indices { r[i] -= x.scalars[i]; squared += Double(r[i]) * Double(r[i]) }
        var g = try SAEParameters(width: d, latents: m)
        var gOut = r.map { $0 * 2 / Float(n) }
        for row in 0..<n { for c in 0..<d { g.bDec[c] += gOut[row * d + c] } }
        var entries: [(row: Int, latent: Int, grad: Float)] = []
        let gMain = sparseDecodeBackward(idx, val, rows: n, slots: k, gOut: gOut, into: &g)
        for s in gMain.indices where val[s] > 0 { entries.append((s / k, Int(idx[s]), gMain[s])) }
        // Auxiliary-k loss on dead latents against the residual e = x - x̂ = -r.
        var aux = 0.0
        let deadCount = options.dead?.reduce(0) { $0 + ($1 ? 1 : 0) } ?? 0
        if let dead = options.dead, deadCount > 0, auxAlpha > 0 {
            let slots = min(auxK, deadCount)
            let (aIdx, aVal) = Self.topK(pre, rows: n, columns: m, k: slots, allowed: dead)
            var diff = r  // ê - e = ê + r
            sparseDecode(aIdx, aVal, rows: n, slots: slots, into: &diff)
            let scale = auxAlpha * min(Float(deadCount) / Float(auxK), 1)
            var auxSquared = 0.0
            for v in diff { auxSquared += Double(v) * Double(v) }
            aux = Double(scale) * auxSquared / Double(n)
            gOut = diff.map { $0 * 2 * scale / Float(n) }
            let gAux = sparseDecodeBackward(aIdx, aVal, rows: n, slots: slots, gOut: gOut, into: &g)
            for s in gAux.indices where aVal[s] > 0 { entries.append((s / slots, Int(aIdx[s]), gAux[s])) }
        }
        addSparseEncoderGradients(entries, centred: centred, into: &g)
        var fired = [Int32](repeating: 0, count: m)
        var active = 0
        for s in val.indices where val[s] > 0 { fired[Int(idx[s])] += 1; active += 1 }
        let mse = squared / Double(n)
        let stats = SAEBatchStats(rows: n, loss: mse + aux, mse: mse, penalty: aux, l0: Double(active) / Double(n),
                                  squaredError: squared, totalVariance: Self.totalVariance(x), fired: fired)
        return (stats, g)
    }

    /// The encoder gradients of sparse dL/d(pre) entries: `W_enc[:, i] += grad · centred[row]`,
    /// `b_enc[i] += grad`, `b_dec -= W_enc · Σ grad` (accumulated transposed, then added once).
    func addSparseEncoderGradients(_ entries: [(row: Int, latent: Int, grad: Float)], centred: [Float], into g: inout SAEParameters) {
        let d = width, m = latents
        var transposed = [Float](repeating: 0, count: m * d)
        var colSum = [Float](repeating: 0, count: m)
        var touched = [Bool](repeating: false, count: m)
        transposed.withUnsafeMutableBufferPointer { t in
            centred.withUnsafeBufferPointer { x in
                for e in entries {
                    colSum[e.latent] += e.grad
                    touched[e.latent] = true
                    let dst = t.baseAddress! + e.latent * d, src = x.baseAddress! + e.row * d, gr = e.grad
                    Self.axpy(gr, src, dst, d)
                }
            }
            g.wEnc.withUnsafeMutableBufferPointer { w in
                for i in 0..<m where touched[i] {
                    g.bEnc[i] += colSum[i]
                    for c in 0..<d { w[c * m + i] += t[i * d + c] }
                }
            }
        }
        var through = [Float](repeating: 0, count: d)
        parameters.wEnc.withUnsafeBufferPointer { w in
            colSum.withUnsafeBufferPointer { x in
                through.withUnsafeMutableBufferPointer { y in BLAS.gemv(n: d, k: m, w: w.baseAddress!, x: x.baseAddress!, y: y.baseAddress!) }
            }
        }
        for c in 0..<d { g.bDec[c] -= through[c] }
    }

    /// `y[0..<n] += a * x[0..<n]`, eight lanes at a time.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var c = 0
        let va = SIMD8<Float>(repeating: a)
        while c + 8 <= n {
            let vx = UnsafeRawPointer(x + c).loadUnaligned(as: SIMD8<Float>.self)
            let vy = UnsafeRawPointer(y + c).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + c).storeBytes(of: vy + va * vx, as: SIMD8<Float>.self)
            c += 8
        }
        while c < n { y[c] += a * x[c]; c += 1 }
    }

    /// `Σ x[i] y[i]` over `0..<n`, in eight partial sums.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var c = 0
        var acc = SIMD8<Float>(repeating: 0)
        while c + 8 <= n {
            acc += UnsafeRawPointer(x + c).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + c).loadUnaligned(as: SIMD8<Float>.self)
            c += 8
        }
        var total = acc.sum()
        while c < n { total += x[c] * y[c]; c += 1 }
        return total
    }

    /// Removes from each decoder row's gradient its component along that row (the unit-norm
    /// constraint's tangent space).
    public func constrainGradient(_ gradient: inout SAEParameters) {
        let d = width
        for i in 0..<latents {
            var dot: Float = 0, norm2: Float = 0
            for c in 0..<d { dot += gradient.wDec[i * d + c] * parameters.wDec[i * d + c]; norm2 += parameters.wDec[i * d + c] * parameters.wDec[i * d + c] }
            guard norm2 > 0 else { continue }
            for c in 0..<d { gradient.wDec[i * d + c] -= dot / norm2 * parameters.wDec[i * d + c] }
        }
    }

    /// Rescales every decoder row to unit norm.
    public mutating func constrainParameters() {
        let d = width
        for (i, norm) in parameters.decoderNorms.enumerated() where norm > 0 {
            for c in 0..<d { parameters.wDec[i * d + c] /= norm }
        }
    }
}
