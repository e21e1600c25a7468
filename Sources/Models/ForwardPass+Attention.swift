import Linalg

extension Pass {
    /// Causal self-attention of every sequence's new rows against its cached and new keys.
    ///
    /// Appends this pass's `k`/`v` rows to each sequence's cache, then per (sequence, head):
    /// `scores = q_h · K_gᵀ / √headDim` (`g` the head's key/value group), a causal softmax,
    /// the `pattern` hook, and `z_h = pattern · V_g`. Large products are sgemm calls whose
    /// leading dimensions step over the other heads (no head is copied out); small ones
    /// (short sequences, single tokens) use dot-product loops that skip the masked keys,
    /// because per-call overhead would dominate. (sequence, head) items run in parallel on
    /// the cores with OpenBLAS single-threaded.
    mutating func attention(_ l: Int) throws {
        let c = config, hd = c.headDim, heads = c.nHeads, group = c.groupSize
        let qw = heads * hd, kvw = c.nKVHeads * hd
        let scale = 1 / Float(hd).squareRoot()
        var scores: [FloatBuffer] = []           // per span: [nHeads, nq, nk]
        var keys: [UnsafeMutablePointer<Float>] = [], values: [UnsafeMutablePointer<Float>] = []
        for span in spans {
            let cache = caches[span.sequence]
            let (nq, nk) = (span.count, span.past + span.count)
            let kp = cache.keyPointer(layer: l), vp = cache.valuePointer(layer: l)
            (kp + span.past * kvw).update(from: k.pointer + span.row * kvw, count: nq * kvw)
            (vp + span.past * kvw).update(from: v.pointer + span.row * kvw, count: nq * kvw)
            keys.append(kp)
            values.append(vp)
            scores.append(FloatBuffer(count: heads * nq * nk))
        }
        let work = spans.reduce(0) { $0 + $1.count * ($1.past + $1.count) } * heads * hd
        let items = spans.count * heads
        let (qp, spanList) = (q.pointer, spans)
        let (scorePointers, keyPointers) = (scores.map(\.pointer), keys)
        BLAS.singleThreaded {
            parallelChunks(items, minimumPerChunk: work >= 1 << 18 ? 1 : items) { range in
                for item in range {
                    let span = spanList[item / heads], head = item % heads
                    let (nq, nk) = (span.count, span.past + span.count)
                    let s = scorePointers[item / heads] + head * nq * nk
                    let qh = qp + span.row * qw + head * hd, kh = keyPointers[item / heads] + (head / group) * hd
                    if nq * nk * hd >= 1 << 15 {
                        BLAS.gemmTransposedB(m: nq, n: nk, k: hd, a: qh, lda: qw, b: kh, ldb: kvw, c: s, alpha: scale)
                    } else {
                        Kernels.scoresCausal(q: qh, qStride: qw, k: kh, kStride: kvw, rows: nq, past: span.past,
                                             width: hd, scale: scale, out: s, outStride: nk)
                    }
                    for i in 0..<nq { Kernels.softmaxRow(s + i * nk, valid: span.past + i + 1, width: nk) }
                }
            }
        }
        if hooked, let list = hooks.hooks(at: .pattern(l)) {
            for (span, buffer) in zip(spans, scores) {
                let shape = [heads, span.count, span.past + span.count]
                var t = Tensor(shape: shape, scalars: buffer.array(0..<buffer.count))
                try Pass.call(list, on: &t, HookContext(point: .pattern(l), sequence: span.sequence,
                                                        positions: span.positions))
                if t.shape != shape { throw ModelError.hookShape(hook: HookPoint.pattern(l).name, expected: shape, found: t.shape) }
                buffer.write(t.scalars, at: 0)
            }
        }
        let zp = z.pointer, valuePointers = values
        BLAS.singleThreaded {
            parallelChunks(items, minimumPerChunk: work >= 1 << 18 ? 1 : items) { range in
                for item in range {
                    let span = spanList[item / heads], head = item % heads
                    let (nq, nk) = (span.count, span.past + span.count)
                    let s = scorePointers[item / heads] + head * nq * nk
                    let vh = valuePointers[item / heads] + (head / group) * hd
                    let zh = zp + span.row * qw + head * hd
                    if nq * nk * hd >= 1 << 15 {
                        BLAS.gemm(m: nq, n: hd, k: nk, a: s, lda: nk, b: vh, ldb: kvw, c: zh, ldc: qw)
                    } else {
                        Kernels.weightedSum(p: s, pStride: nk, v: vh, vStride: kvw, rows: nq, past: span.past,
                                            width: hd, out: zh, outStride: qw)
                    }
                }
            }
        }
        withExtendedLifetime(scores) {}
    }
}
