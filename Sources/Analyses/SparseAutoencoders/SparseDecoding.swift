import Dispatch
import Linalg

/// The sparse kernels TopK-style SAEs share: decoding and its backward pass over each row's
/// active latents only, the sparse encoder gradient, the auxiliary-k loss against dead latents,
/// and the unit-norm decoder constraint. Active latents come as `[rows, slots]` index/value
/// pairs; a slot whose value is 0 is inactive (padding).
///
/// Every kernel splits its work so that each output value is computed by one thread in a
/// fixed order (rows for per-row results, latents for per-latent sums), so results do not
/// depend on the number of threads.
extension SparseAutoencoder {
    /// `out[row] (+)= Σ_j val[row, j] · W_dec[idx[row, j]]` over each row's active slots (rows
    /// in parallel blocks; each row's sum in slot order, so the result does not depend on them).
    func sparseDecode(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, into out: inout [Float]) {
        let d = width
        parameters.wDec.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                idx.withUnsafeBufferPointer { idx in
                    val.withUnsafeBufferPointer { val in
                        nonisolated(unsafe) let (w, o, idx, val) = (w, o, idx, val)
                        SAEKernels.blocks(n) { rows in
                            for r in rows {
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
    /// products run by rows, the decoder-row sums by latents (each latent's in row order over
    /// ``LatentGroups``), both in parallel blocks, so the result does not depend on them.
    func sparseDecodeBackward(_ idx: [Int32], _ val: [Float], rows n: Int, slots: Int, gOut: [Float],
                              into g: inout SAEParameters) -> [Float] {
        let d = width, m = latents
        var gSlot = [Float](repeating: 0, count: n * slots)
        let groups = LatentGroups(idx: idx, val: val, latents: m)
        parameters.wDec.withUnsafeBufferPointer { w in
            g.wDec.withUnsafeMutableBufferPointer { gw in
                gOut.withUnsafeBufferPointer { gOut in
                    gSlot.withUnsafeMutableBufferPointer { gs in
                        idx.withUnsafeBufferPointer { idx in
                            val.withUnsafeBufferPointer { val in
                                nonisolated(unsafe) let (w, gw, gOut, gs, idx, val) = (w, gw, gOut, gs, idx, val)
                                SAEKernels.blocks(n) { rows in
                                    for r in rows {
                                        for j in 0..<slots where val[r * slots + j] > 0 {
                                            let wi = w.baseAddress! + Int(idx[r * slots + j]) * d
                                            gs[r * slots + j] = SAEKernels.dot(gOut.baseAddress! + r * d, wi, d)
                                        }
                                    }
                                }
                                SAEKernels.blocks(m) { latents in
                                    for i in latents {
                                        let gi = gw.baseAddress! + i * d
                                        for p in groups.order[groups.start[i]..<groups.start[i + 1]] {
                                            SAEKernels.axpy(val[p], gOut.baseAddress! + (p / slots) * d, gi, d)
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
    /// `b_enc[i] += grad`, `b_dec -= W_enc · Σ grad` (not for transcoders). Latents run in
    /// parallel tiles of 16: each latent's column is summed in entry order into the tile, which
    /// is then added to `W_enc`'s 16 columns row by row (no transposed scratch matrix).
    func addSparseEncoderGradients(_ entries: [(row: Int, latent: Int, grad: Float)], centred: [Float], into g: inout SAEParameters) {
        let d = width, m = latents, tile = 16
        let groups = LatentGroups(entries.map { Int32($0.latent) }, latents: m)
        var colSum = [Float](repeating: 0, count: m)
        g.wEnc.withUnsafeMutableBufferPointer { w in
            colSum.withUnsafeMutableBufferPointer { sums in
                centred.withUnsafeBufferPointer { x in
                    entries.withUnsafeBufferPointer { entries in
                        nonisolated(unsafe) let (w, sums, x, entries) = (w, sums, x, entries)
                        DispatchQueue.concurrentPerform(iterations: (m + tile - 1) / tile) { t in
                            let lo = t * tile, hi = min(m, lo + tile)
                            guard groups.anyEntries(in: lo..<hi) else { return }
                            let acc = UnsafeMutablePointer<Float>.allocate(capacity: tile * d)
                            defer { acc.deallocate() }
                            acc.initialize(repeating: 0, count: tile * d)
                            for i in lo..<hi {
                                var s: Float = 0
                                for p in groups.order[groups.start[i]..<groups.start[i + 1]] {
                                    let e = entries[p]
                                    SAEKernels.axpy(e.grad, x.baseAddress! + e.row * d, acc + (i - lo) * d, d)
                                    s += e.grad
                                }
                                sums[i] = s
                            }
                            for c in 0..<d {
                                let dst = w.baseAddress! + c * m + lo
                                for j in 0..<(hi - lo) { dst[j] += acc[j * d + c] }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<m { g.bEnc[i] += colSum[i] }
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
    /// dL/d(pre) to `entries`, and returns the loss (0 when no latent is dead). The selection
    /// reads only the dead latents' columns.
    func auxiliaryLoss(pre: [Float], residual r: [Float], rows n: Int, dead: [Bool]?, auxK: Int, alpha: Float,
                       into g: inout SAEParameters, entries: inout [(row: Int, latent: Int, grad: Float)]) -> Double {
        let deadColumns = dead.map { d in d.indices.filter { d[$0] }.map { Int32($0) } } ?? []
        guard !deadColumns.isEmpty, alpha > 0 else { return 0 }
        let slots = min(auxK, deadColumns.count)
        let (aIdx, aVal) = TopKSelection.select(pre, rows: n, columns: latents, k: slots, only: deadColumns)
        var diff = r  // ê - e = ê + r
        sparseDecode(aIdx, aVal, rows: n, slots: slots, into: &diff)
        let scale = alpha * min(Float(deadColumns.count) / Float(auxK), 1)
        var auxSquared = 0.0
        for v in diff { auxSquared += Double(v) * Double(v) }
        let gOut = diff.map { $0 * 2 * scale / Float(n) }
        let gAux = sparseDecodeBackward(aIdx, aVal, rows: n, slots: slots, gOut: gOut, into: &g)
        for s in gAux.indices where aVal[s] > 0 { entries.append((s / slots, Int(aIdx[s]), gAux[s])) }
        return Double(scale) * auxSquared / Double(n)
    }

    /// Removes from each decoder row's gradient its component along that row (the unit-norm
    /// constraint's tangent space); latents in parallel.
    func projectDecoderGradient(_ gradient: inout SAEParameters) {
        let d = width
        parameters.wDec.withUnsafeBufferPointer { w in
            gradient.wDec.withUnsafeMutableBufferPointer { g in
                nonisolated(unsafe) let (w, g) = (w, g)
                SAEKernels.blocks(latents) { latents in
                    for i in latents {
                        let wi = w.baseAddress! + i * d, gi = g.baseAddress! + i * d
                        let norm2 = SAEKernels.dot(wi, wi, d)
                        guard norm2 > 0 else { continue }
                        SAEKernels.axpy(-(SAEKernels.dot(gi, wi, d) / norm2), wi, gi, d)
                    }
                }
            }
        }
    }

    /// Rescales every decoder row to unit norm (``SAEParameters/decoderNorms``'s norm); latents
    /// in parallel.
    mutating func normalizeDecoderRows() {
        let d = width, m = latents
        parameters.wDec.withUnsafeMutableBufferPointer { w in
            nonisolated(unsafe) let w = w
            SAEKernels.blocks(m) { latents in
                for i in latents {
                    let row = w.baseAddress! + i * d
                    let norm = BLAS.norm(n: d, x: row)
                    guard norm > 0 else { continue }
                    for c in 0..<d { row[c] /= norm }
                }
            }
        }
    }
}

/// Small SIMD kernels of the sparse SAE paths.
enum SAEKernels {
    /// Runs `body` over contiguous blocks of `0..<count` in parallel (up to `maxBlocks`, 64
    /// by default, so a slow block does not hold the others up). Callers write disjoint
    /// outputs per index, so the result does not depend on the split.
    static func blocks(_ count: Int, maxBlocks: Int = 64, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let n = min(count, max(maxBlocks, 1)), per = (count + n - 1) / n
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: n) { b in
            let lo = b * per, hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
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
}
