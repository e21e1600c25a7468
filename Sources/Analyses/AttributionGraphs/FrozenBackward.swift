import Linalg

/// The backward pass of the frozen replacement model: rows of the adjacency matrix for a batch
/// of targets, computed as transposed matrix products (no autodiff).
///
/// With the attention patterns and norm scales frozen and each MLP replaced by its transcoder's
/// features (constants), error and skip term, the residual stream is linear in the sources. A
/// target is a vector `v` read at one position: a feature's encoder column at its layer's MLP
/// input (its pre-activation), or a logit's demeaned unembedding row at the final norm's
/// output. Its gradient flows down through each layer's skip term `W_skipᵀ`, the MLP norm
/// (`w ⊙ scale`), the attention's OV circuit (`W_O`, the patterns transposed, `W_V`) and the
/// attention norm, all for a whole batch of targets as sgemm calls over `[targets x positions]`
/// rows. A source's edge is its contribution vector (activation times decoder row, the error
/// vector, the token embedding) dotted with the gradient where it enters the residual stream,
/// which is circuit-tracer's `AttributionContext.compute_batch`. Memory is a few
/// `[batch, positions, d_model]` buffers, bounded by the batch size.
struct FrozenBackward {
    let replacement: LocalReplacementModel
    let layout: GraphLayout
    /// Scaled decoder rows of every active feature, in node order `[features, d]`.
    let decoders: [Float]
    /// Per (layer, position): the range of feature nodes there.
    let featureRanges: [[Range<Int>]]

    /// One target: its vector `[d]` read at `position` of layer `layer`'s MLP input, or of the
    /// final norm's output when `layer` is the number of layers.
    struct Target {
        let layer: Int
        let position: Int
        let vector: [Float]
    }

    init(_ replacement: LocalReplacementModel, layout: GraphLayout) {
        self.replacement = replacement
        self.layout = layout
        let c = replacement.config
        var ranges = [[Range<Int>]](repeating: [Range<Int>](repeating: 0..<0, count: replacement.positions), count: c.nLayers)
        var decoders: [Float] = []
        decoders.reserveCapacity(replacement.features.count * c.dModel)
        var start = 0
        for (i, f) in replacement.features.enumerated() {
            decoders += replacement.scaledDecoder(f)
            let next = i + 1
            if next == replacement.features.count || replacement.features[next].layer != f.layer || replacement.features[next].position != f.position {
                ranges[f.layer][f.position] = start..<next
                start = next
            }
        }
        self.decoders = decoders
        featureRanges = ranges
    }

    /// The adjacency rows `[targets, layout.sources]` of `targets`, which must be sorted by
    /// layer, highest first (rows below a target's layer stay zero, so each layer's products
    /// run only on the rows already started).
    func rows(_ targets: [Target]) -> [Float] {
        let c = replacement.config, w = replacement.model.weights
        let b = targets.count, n = replacement.positions, d = c.dModel, layers = c.nLayers
        let heads = c.nHeads, hd = c.headDim, kvw = c.nKVHeads * hd, qw = heads * hd, group = c.groupSize
        let s = layout.sources
        var out = [Float](repeating: 0, count: b * s)
        let g = FloatBuffer(count: b * n * d), gh = FloatBuffer(count: b * n * d)
        let gz = FloatBuffer(count: b * n * qw), gv = FloatBuffer(count: b * n * kvw)
        g.pointer.initialize(repeating: 0, count: b * n * d)
        // Logit targets: through the final norm (weight times frozen scale).
        w.finalNorm.withUnsafeBufferPointer { wf in
            for (r, t) in targets.enumerated() where t.layer == layers {
                let scale = replacement.finalScales[t.position], row = g.pointer + (r * n + t.position) * d
                for j in 0..<d { row[j] = t.vector[j] * wf[j] * scale }
            }
        }
        let started = { (layer: Int) in targets.prefix { $0.layer > layer }.count }
        out.withUnsafeMutableBufferPointer { outBuffer in
            let o = outBuffer.baseAddress!
            for l in stride(from: layers - 1, through: 0, by: -1) {
                let live = started(l), rowsNow = live * n
                // Sources at layer l: features and errors, read against the gradient at resid_post(l).
                for p in 1..<n where live > 0 {
                    let range = featureRanges[l][p]
                    if !range.isEmpty {
                        decoders.withUnsafeBufferPointer { dec in
                            BLAS.gemmTransposedB(m: live, n: range.count, k: d, a: g.pointer + p * d, lda: n * d,
                                                 b: dec.baseAddress! + range.lowerBound * d, ldb: d, c: o + range.lowerBound, ldc: s)
                        }
                    }
                    replacement.errors[l].withUnsafeBufferPointer { e in
                        BLAS.gemmTransposedB(m: live, n: 1, k: d, a: g.pointer + p * d, lda: n * d, b: e.baseAddress! + p * d, ldb: d,
                                             c: o + layout.errorNode(layer: l, position: p), ldc: s)
                    }
                }
                // The MLP input's gradient: the skip term's, plus the targets injected at this layer.
                let withTargets = targets.prefix { $0.layer >= l }.count, rowsAll = withTargets * n
                guard withTargets > 0 else { continue }
                let tc = replacement.transcoders.transcoders[l]
                if tc.parameters.hasSkip && live > 0 {
                    tc.parameters.wSkip.withUnsafeBufferPointer { ws in
                        BLAS.gemm(m: rowsNow, n: d, k: d, a: g.pointer, b: ws.baseAddress!, c: gh.pointer)
                    }
                    gh.pointer.advanced(by: rowsNow * d).initialize(repeating: 0, count: (rowsAll - rowsNow) * d)
                } else {
                    gh.pointer.initialize(repeating: 0, count: rowsAll * d)
                }
                for r in live..<withTargets {
                    let t = targets[r], row = gh.pointer + (r * n + t.position) * d
                    for j in 0..<d { row[j] += t.vector[j] }
                }
                // Through the MLP norm into resid_mid: g += gh ⊙ w2 · scale2.
                let lw = w.layers[l]
                addThroughNorm(gh, weight: lw.mlpNorm, scales: replacement.mlpScales[l], into: g, rows: withTargets, n: n, d: d)
                // Through the attention's OV circuit with frozen patterns, then the attention norm.
                lw.wo.dense().withUnsafeBufferPointer { wo in
                    BLAS.gemm(m: rowsAll, n: qw, k: d, a: g.pointer, b: wo.baseAddress!, c: gz.pointer)
                }
                gv.pointer.initialize(repeating: 0, count: rowsAll * kvw)
                replacement.patterns[l].withUnsafeBufferPointer { a in
                    for r in 0..<withTargets {
                        for h in 0..<heads {
                            BLAS.gemmTransposedA(m: n, n: hd, k: n, a: a.baseAddress! + h * n * n, lda: n,
                                                 b: gz.pointer + r * n * qw + h * hd, ldb: qw,
                                                 c: gv.pointer + r * n * kvw + (h / group) * hd, ldc: kvw, beta: 1)
                        }
                    }
                }
                lw.wv.dense().withUnsafeBufferPointer { wv in
                    BLAS.gemm(m: rowsAll, n: d, k: kvw, a: gv.pointer, b: wv.baseAddress!, c: gh.pointer)
                }
                addThroughNorm(gh, weight: lw.attnNorm, scales: replacement.attentionScales[l], into: g, rows: withTargets, n: n, d: d)
            }
            // Token sources: the embedding rows against the gradient at resid_pre(0).
            replacement.embeddings.withUnsafeBufferPointer { e in
                for p in 0..<n {
                    BLAS.gemmTransposedB(m: b, n: 1, k: d, a: g.pointer + p * d, lda: n * d, b: e.baseAddress! + p * d, ldb: d,
                                         c: o + layout.tokenNode(position: p), ldc: s)
                }
            }
        }
        withExtendedLifetime((g, gh, gz, gv)) {}
        return out
    }

    /// `g[r, p] += grad[r, p] ⊙ weight · scales[p]` for the first `rows` targets: a gradient
    /// through an RMSNorm whose scale is frozen.
    private func addThroughNorm(_ grad: FloatBuffer, weight: Tensor, scales: [Float], into g: FloatBuffer, rows: Int, n: Int, d: Int) {
        weight.withUnsafeBufferPointer { w in
            for r in 0..<rows {
                for p in 0..<n {
                    let src = grad.pointer + (r * n + p) * d, dst = g.pointer + (r * n + p) * d, sc = scales[p]
                    for j in 0..<d { dst[j] += src[j] * w[j] * sc }
                }
            }
        }
    }
}
