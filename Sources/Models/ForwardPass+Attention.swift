import Linalg

extension Pass {
    /// Causal self-attention of every sequence's new rows against its cached and new keys.
    ///
    /// Appends this pass's `k`/`v` rows to each sequence's cache, then per (sequence, head):
    /// `scores = q_h · K_gᵀ / √headDim` (`g` the head's key/value group), a causal softmax,
    /// the `pattern` hook, and `z_h = pattern · V_g`. Small (sequence, head) items (short
    /// sequences, single tokens) use dot-product loops that skip the masked keys and run in
    /// parallel on the cores; large ones are sgemm calls, one after another, whose leading
    /// dimensions step over the other heads (no head is copied out), which OpenBLAS threads
    /// itself, per block of query rows against only the keys the block can see. OpenBLAS's
    /// thread count is never changed here: its results depend on it, and a pass must give
    /// the same bits whatever else the process is doing.
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
        let items = spans.count * heads
        let (qp, spanList) = (q.pointer, spans)
        let (scorePointers, keyPointers) = (scores.map(\.pointer), keys)
        // Up to `attentionBLASThreshold` multiply-adds a head runs on one of our threads (the
        // loops skip the masked half and wake no BLAS threads); larger heads go to sgemm.
        func isLarge(_ item: Int) -> Bool {
            let span = spanList[item / heads]
            return span.count * (span.past + span.count) * hd > Pass.attentionBLASThreshold
        }
        let small = (0..<items).filter { !isLarge($0) }, large = (0..<items).filter(isLarge)
        let smallWork = small.reduce(0) { let s = spanList[$1 / heads]; return $0 + s.count * (s.past + s.count) } * hd
        parallelChunks(small.count, minimumPerChunk: smallWork >= 1 << 18 ? 1 : max(small.count, 1)) { range in
            for item in range.map({ small[$0] }) {
                let span = spanList[item / heads], head = item % heads
                let (nq, nk) = (span.count, span.past + span.count)
                let s = scorePointers[item / heads] + head * nq * nk
                let qh = qp + span.row * qw + head * hd, kh = keyPointers[item / heads] + (head / group) * hd
                Kernels.scoresCausal(q: qh, qStride: qw, k: kh, kStride: kvw, rows: nq, past: span.past,
                                     width: hd, scale: scale, out: s, outStride: nk)
                for i in 0..<nq { Kernels.softmaxRow(s + i * nk, valid: span.past + i + 1, width: nk) }
            }
        }
        for item in large {
            let span = spanList[item / heads], head = item % heads
            let (nq, nk) = (span.count, span.past + span.count)
            let s = scorePointers[item / heads] + head * nq * nk
            let qh = qp + span.row * qw + head * hd, kh = keyPointers[item / heads] + (head / group) * hd
            // Each block of query rows against the keys it can see (the softmax zeroes the rest).
            for r in Pass.causalBlocks(nq) {
                BLAS.gemmTransposedB(m: r.count, n: span.past + r.upperBound, k: hd, a: qh + r.lowerBound * qw, lda: qw,
                                     b: kh, ldb: kvw, c: s + r.lowerBound * nk, ldc: nk, alpha: scale)
            }
            for i in 0..<nq { Kernels.softmaxRow(s + i * nk, valid: span.past + i + 1, width: nk) }
        }
        if hooked, let list = hooks.hooks(at: .pattern(l)) {
            for (span, buffer) in zip(spans, scores) {
                try dispatch(list, at: .pattern(l), span: span, shape: [heads, span.count, span.past + span.count],
                             activation: buffer.pointer)
            }
        }
        let zp = z.pointer, valuePointers = values
        // A pattern hook may write anywhere in the pattern: then every key's value is summed.
        let patternHooked = hooked && hooks.hooks(at: .pattern(l)) != nil
        parallelChunks(small.count, minimumPerChunk: smallWork >= 1 << 18 ? 1 : max(small.count, 1)) { range in
            for item in range.map({ small[$0] }) {
                let span = spanList[item / heads], head = item % heads
                let nk = span.past + span.count
                let s = scorePointers[item / heads] + head * span.count * nk
                Kernels.weightedSum(p: s, pStride: nk, v: valuePointers[item / heads] + (head / group) * hd, vStride: kvw,
                                    rows: span.count, past: span.past, width: hd,
                                    out: zp + span.row * qw + head * hd, outStride: qw)
            }
        }
        for item in large {
            let span = spanList[item / heads], head = item % heads
            let nk = span.past + span.count
            let s = scorePointers[item / heads] + head * span.count * nk
            // The pattern is zero right of each block's last visible key: those values are skipped.
            for r in patternHooked ? [0..<span.count] : Pass.causalBlocks(span.count) {
                BLAS.gemm(m: r.count, n: hd, k: patternHooked ? nk : span.past + r.upperBound, a: s + r.lowerBound * nk, lda: nk,
                          b: valuePointers[item / heads] + (head / group) * hd, ldb: kvw,
                          c: zp + (span.row + r.lowerBound) * qw + head * hd, ldc: qw)
            }
        }
        withExtendedLifetime(scores) {}
    }

    /// Multiply-adds (`queries x keys x headDim`) above which a head's attention products go
    /// through sgemm. Below it the heads run in parallel on our threads with the AVX2 loops,
    /// which skip the masked half: a 128-token prompt's heads (2^20 each) are faster that way
    /// than as 18 two-threaded sgemm calls per layer, each waking OpenBLAS's threads.
    static let attentionBLASThreshold = 1 << 21

    /// `rows` query rows in up to 8 near-equal blocks of at least 64: a large head's products
    /// run per block against the keys that block can see (`past + upperBound`), so they skip
    /// most of the masked half (8 blocks: 56% of the square) instead of computing it.
    static func causalBlocks(_ rows: Int) -> [Range<Int>] {
        let count = max(1, min(8, rows / 64))
        return (0..<count).map { b in (b * rows / count)..<((b + 1) * rows / count) }
    }
}
