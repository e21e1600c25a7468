import Linalg

extension Pass {
    /// Causal self-attention of every sequence's new rows against its cached and new keys.
    ///
    /// Appends this pass's `k`/`v` rows to each sequence's cache, then per head:
    /// `scores = q_h · K_gᵀ / √headDim` (`g` the head's key/value group), a causal softmax,
    /// the `pattern` hook, and `z_h = pattern · V_g`. Each product is one sgemm whose
    /// leading dimensions step over the other heads, so no head is ever copied out.
    mutating func attention(_ l: Int) throws {
        let c = config, hd = c.headDim
        let qw = c.nHeads * hd, kvw = c.nKVHeads * hd
        let scale = 1 / Float(hd).squareRoot()
        for span in spans {
            let cache = caches[span.sequence]
            let (nq, nk) = (span.count, span.past + span.count)
            (cache.keys[l]).withUnsafeMutableBufferPointer { kc in
                (kc.baseAddress! + span.past * kvw).update(from: k.pointer + span.row * kvw, count: nq * kvw)
            }
            (cache.values[l]).withUnsafeMutableBufferPointer { vc in
                (vc.baseAddress! + span.past * kvw).update(from: v.pointer + span.row * kvw, count: nq * kvw)
            }
            let scores = FloatBuffer(count: c.nHeads * nq * nk)  // [nHeads, nq, nk]
            cache.keys[l].withUnsafeBufferPointer { kc in
                for head in 0..<c.nHeads {
                    let g = head / c.groupSize
                    let s = scores.pointer + head * nq * nk
                    BLAS.gemmTransposedB(m: nq, n: nk, k: hd, a: q.pointer + span.row * qw + head * hd, lda: qw,
                                         b: kc.baseAddress! + g * hd, ldb: kvw, c: s, alpha: scale)
                    for i in 0..<nq {
                        Kernels.softmaxRow(s + i * nk, valid: span.past + i + 1, width: nk)
                    }
                }
            }
            if hooked, let list = hooks.hooks(at: .pattern(l)) {
                let shape = [c.nHeads, nq, nk]
                var t = Tensor(shape: shape, scalars: scores.array(0..<scores.count))
                try Pass.call(list, on: &t, HookContext(point: .pattern(l), sequence: span.sequence,
                                                        positions: span.positions))
                if t.shape != shape { throw ModelError.hookShape(hook: HookPoint.pattern(l).name, expected: shape, found: t.shape) }
                scores.write(t.scalars, at: 0)
            }
            cache.values[l].withUnsafeBufferPointer { vc in
                for head in 0..<c.nHeads {
                    let g = head / c.groupSize
                    BLAS.gemm(m: nq, n: hd, k: nk, a: scores.pointer + head * nq * nk, lda: nk,
                              b: vc.baseAddress! + g * hd, ldb: kvw,
                              c: z.pointer + span.row * qw + head * hd, ldc: qw)
                }
            }
        }
    }
}
