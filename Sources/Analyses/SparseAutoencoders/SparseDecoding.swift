import Dispatch
import Linalg

/// The sparse kernels TopK-style SAEs share: decoding and its backward pass over each row's
/// active latents only, the sparse encoder gradient, the auxiliary-k loss against dead latents,
/// and the unit-norm decoder constraint. Active latents come as `[rows, slots]` index/value
/// pairs; a slot whose value is 0 is inactive (padding).
extension SparseAutoencoder {
    /// `out[row] (+)= Σ_j val[row, j] · W_dec[idx[row, j]]` over each row's active slots (rows
    /// in parallel chunks; each row's sum in slot order, so the result does not depend on them).
    func sparseDecode(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, into out: inout [Float]) {
        let d = width, chunks = max(1, min(n, 8))
        parameters.wDec.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                idx.withUnsafeBufferPointer { idx in
                    val.withUnsafeBufferPointer { val in
                        nonisolated(unsafe) let (w, o, idx, val) = (w, o, idx, val)
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            for r in stride(from: chunk, to: n, by: chunks) {
                                let dst = o.baseAddress! + r * d
                                for j in 0..<slots where val[r * slots + j] > 0 {
                                    SAEKernels.axpy(val[r * slots + j], w.baseAddress! + Int(idx[r * slots + j]) * d, dst, d)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// For a loss term with gradient `gOut` `[rows, d_in]` on a sparse decode: adds
    /// `val · gOut` to the used decoder rows, and returns dL/d(pre) per active slot. The dot
    /// products run by rows, the decoder-row sums by latents (each latent's in row order), both
    /// in parallel chunks, so the result does not depend on the chunking.
    func sparseDecodeBackward(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, gOut: [Float],
                              into g: inout SAEParameters) -> [Float] {
        let d = width, chunks = max(1, min(n, 8))
        var gSlot = [Float](repeating: 0, count: n * slots)
        parameters.wDec.withUnsafeBufferPointer { w in
            g.wDec.withUnsafeMutableBufferPointer { gw in
                gOut.withUnsafeBufferPointer { gOut in
                    gSlot.withUnsafeMutableBufferPointer { gs in
                        idx.withUnsafeBufferPointer { idx in
                            val.withUnsafeBufferPointer { val in
                                nonisolated(unsafe) let (w, gw, gOut, gs, idx, val) = (w, gw, gOut, gs, idx, val)
                                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                                    for r in stride(from: chunk, to: n, by: chunks) {
                                        for j in 0..<slots where val[r * slots + j] > 0 {
                                            let wi = w.baseAddress! + Int(idx[r * slots + j]) * d
                                            gs[r * slots + j] = SAEKernels.dot(gOut.baseAddress! + r * d, wi, d)
                                        }
                                    }
                                }
                                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                                    for r in 0..<n {
                                        for j in 0..<slots where val[r * slots + j] > 0 && Int(idx[r * slots + j]) % chunks == chunk {
                                            let gi = gw.baseAddress! + Int(idx[r * slots + j]) * d
                                            SAEKernels.axpy(val[r * slots + j], gOut.baseAddress! + r * d, gi, d)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return gSlot
    }

    /// The encoder gradients of sparse dL/d(pre) entries: `W_enc[:, i] += grad · centred[row]`,
    /// `b_enc[i] += grad`, `b_dec -= W_enc · Σ grad` (not for transcoders; accumulated transposed, latents in
    /// parallel chunks, then added once).
    func addSparseEncoderGradients(_ entries: [(row: Int, latent: Int, grad: Float)], centred: [Float], into g: inout SAEParameters) {
        let d = width, m = latents
        var transposed = [Float](repeating: 0, count: m * d)
        var colSum = [Float](repeating: 0, count: m)
        var touched = [Bool](repeating: false, count: m)
        for e in entries {
            colSum[e.latent] += e.grad
            touched[e.latent] = true
        }
        transposed.withUnsafeMutableBufferPointer { t in
            centred.withUnsafeBufferPointer { x in
                entries.withUnsafeBufferPointer { entries in
                    // Latents split across chunks; each latent's sum in entry order, as sequentially.
                    nonisolated(unsafe) let (t, x, entries) = (t, x, entries)
                    let chunks = 8
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        for e in entries where e.latent % chunks == chunk {
                            SAEKernels.axpy(e.grad, x.baseAddress! + e.row * d, t.baseAddress! + e.latent * d, d)
                        }
                    }
                }
            }
            g.wEnc.withUnsafeMutableBufferPointer { w in
                for i in 0..<m where touched[i] {
                    g.bEnc[i] += colSum[i]
                    for c in 0..<d { w[c * m + i] += t[i * d + c] }
                }
            }
        }
        guard !parameters.isTranscoder else { return }
        var through = [Float](repeating: 0, count: d)
        parameters.wEnc.withUnsafeBufferPointer { w in
            colSum.withUnsafeBufferPointer { x in
                through.withUnsafeMutableBufferPointer { y in BLAS.gemv(n: d, k: m, w: w.baseAddress!, x: x.baseAddress!, y: y.baseAddress!) }
            }
        }
        for c in 0..<d { g.bDec[c] -= through[c] }
    }

    /// The auxiliary-k loss (Gao et al. 2024) for residual `r = x̂ - x` `[rows, d_in]`: the
    /// `auxK` largest pre-activations among dead latents reconstruct `e = -r` (held constant),
    /// weighted `alpha · min(dead / auxK, 1)`, row mean. Adds its decoder gradient to `g`, its
    /// dL/d(pre) to `entries`, and returns the loss (0 when no latent is dead).
    func auxiliaryLoss(pre: [Float], residual r: [Float], rows n: Int, dead: [Bool]?, auxK: Int, alpha: Float,
                       into g: inout SAEParameters, entries: inout [(row: Int, latent: Int, grad: Float)]) -> Double {
        let deadCount = dead?.reduce(0) { $0 + ($1 ? 1 : 0) } ?? 0
        guard let dead, deadCount > 0, alpha > 0 else { return 0 }
        let slots = min(auxK, deadCount)
        let (aIdx, aVal) = TopKSAE.topK(pre, rows: n, columns: latents, k: slots, allowed: dead)
        var diff = r  // ê - e = ê + r
        sparseDecode(aIdx, aVal, rows: n, slots: slots, into: &diff)
        let scale = alpha * min(Float(deadCount) / Float(auxK), 1)
        var auxSquared = 0.0
        for v in diff { auxSquared += Double(v) * Double(v) }
        let gOut = diff.map { $0 * 2 * scale / Float(n) }
        let gAux = sparseDecodeBackward(aIdx, aVal, rows: n, slots: slots, gOut: gOut, into: &g)
        for s in gAux.indices where aVal[s] > 0 { entries.append((s / slots, Int(aIdx[s]), gAux[s])) }
        return Double(scale) * auxSquared / Double(n)
    }

    /// Removes from each decoder row's gradient its component along that row (the unit-norm
    /// constraint's tangent space).
    func projectDecoderGradient(_ gradient: inout SAEParameters) {
        let d = width
        for i in 0..<latents {
            var dot: Float = 0, norm2: Float = 0
            for c in 0..<d { dot += gradient.wDec[i * d + c] * parameters.wDec[i * d + c]; norm2 += parameters.wDec[i * d + c] * parameters.wDec[i * d + c] }
            guard norm2 > 0 else { continue }
            for c in 0..<d { gradient.wDec[i * d + c] -= dot / norm2 * parameters.wDec[i * d + c] }
        }
    }

    /// Rescales every decoder row to unit norm.
    mutating func normalizeDecoderRows() {
        let d = width
        for (i, norm) in parameters.decoderNorms.enumerated() where norm > 0 {
            for c in 0..<d { parameters.wDec[i * d + c] /= norm }
        }
    }
}

/// Small SIMD kernels of the sparse SAE paths.
enum SAEKernels {
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
}
