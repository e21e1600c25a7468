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
            let (sp, qp, past, group) = (scores.pointer, q.pointer + span.row * qw, span.past, c.groupSize)
            cache.keys[l].withUnsafeBufferPointer { kc in
                let kp = kc.baseAddress!
                // Heads run in parallel on the cores, each sgemm single-threaded: the
                // products are too small for OpenBLAS's own threads to pay off.
                BLAS.singleThreaded {
                    parallelChunks(c.nHeads, minimumPerChunk: nq * nk >= 4096 ? 1 : c.nHeads) { heads in
                        for head in heads {
                            let s = sp + head * nq * nk
                            BLAS.gemmTransposedB(m: nq, n: nk, k: hd, a: qp + head * hd, lda: qw,
                                                 b: kp + (head / group) * hd, ldb: kvw, c: s, alpha: scale)
                            for i in 0..<nq { Kernels.softmaxRow(s + i * nk, valid: past + i + 1, width: nk) }
                        }
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
            let zp = z.pointer + span.row * qw
            cache.values[l].withUnsafeBufferPointer { vc in
                let vp = vc.baseAddress!
                BLAS.singleThreaded {
                    parallelChunks(c.nHeads, minimumPerChunk: nq * nk >= 4096 ? 1 : c.nHeads) { heads in
                        for head in heads {
                            BLAS.gemm(m: nq, n: hd, k: nk, a: sp + head * nq * nk, lda: nk,
                                      b: vp + (head / group) * hd, ldb: kvw, c: zp + head * hd, ldc: qw)
                        }
                    }
                }
            }
        }
    }
}
