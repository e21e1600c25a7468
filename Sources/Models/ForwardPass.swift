import Formats
import RealModule
import Linalg

/// The working state of one forward pass (llama2.c's `RunState`): packed activation buffers
/// for the batch's new tokens, sized once, reused by every layer.
///
/// Names: `x` residual stream, `h` normed input of the current sublayer, `q/k/v/z` attention,
/// `o` sublayer output, `a` MLP hidden, `u` MLP up projection. All `[rows, width]`.
struct Pass {
    let model: Transformer
    /// The sequences' rows; after ``keepLastRows()`` one row per sequence.
    var spans: [Transformer.Span]
    let tokens: [Int]
    var rows: Int
    let caches: [KVCache]
    let hooks: HookSet
    let hooked: Bool
    /// MLP outputs of each span's first row given instead of computed.
    let given: GivenMLPOutputs
    let positions: [Int]
    /// RoPE cosines and sines per row, `[rows, headDim/2]`, shared by every layer.
    let ropeCos: [Float], ropeSin: [Float]
    let x, h, q, k, v, z, o, a, u: FloatBuffer

    init(model: Transformer, spans: [Transformer.Span], tokens: [Int], rows: Int,
         caches: [KVCache], hooks: HookSet, given: GivenMLPOutputs = GivenMLPOutputs()) {
        let c = model.config
        self.model = model
        self.spans = spans
        self.tokens = tokens
        self.rows = rows
        self.caches = caches
        self.hooks = hooks
        hooked = !hooks.isEmpty
        self.given = given
        positions = spans.flatMap { Array($0.positions) }
        (ropeCos, ropeSin) = c.positionKind == .rotary
            ? Kernels.ropeTables(positions: positions, invFreq: model.invFreq) : ([], [])
        x = FloatBuffer(count: rows * c.dModel)
        h = FloatBuffer(count: rows * c.dModel)
        q = FloatBuffer(count: rows * c.nHeads * c.headDim)
        k = FloatBuffer(count: rows * c.nKVHeads * c.headDim)
        v = FloatBuffer(count: rows * c.nKVHeads * c.headDim)
        z = FloatBuffer(count: rows * c.nHeads * c.headDim)
        o = FloatBuffer(count: rows * c.dModel)
        a = FloatBuffer(count: rows * c.dMLP)
        u = c.mlpKind == .swiGLU ? FloatBuffer(count: rows * c.dMLP) : FloatBuffer(count: 0)
    }

    var config: TransformerConfig { model.config }

    // MARK: - Stages

    /// Token (and learned position) embeddings into `x`, token rows times
    /// ``PassOptions/embeddingScale``.
    mutating func embed() throws {
        let d = config.dModel, w = model.weights
        for r in 0..<rows { w.tokenEmbedding.copyRow(tokens[r], into: x.pointer + r * d) }
        let scale = config.pass.embeddingScale
        if scale != 1 {
            for i in 0..<(rows * d) { x.pointer[i] *= scale }
        }
        try hook(.embed, x, tail: [d])
        if let pe = w.positionEmbedding {
            pe.withUnsafeBufferPointer { e in
                for r in 0..<rows {
                    (h.pointer + r * d).update(from: e.baseAddress! + positions[r] * d, count: d)
                }
            }
            try hook(.posEmbed, h, tail: [d])
            Kernels.add(h.pointer, to: x.pointer, count: rows * d)
        }
    }

    /// One transformer block: attention then MLP, each pre-normed and added to `x`.
    mutating func block(_ l: Int) throws {
        try attend(l)
        try finishBlock(l)
    }

    /// The last block when only the sequences' last rows are unembedded and no hook watches
    /// it: every row's keys and values go into the caches and feed the last rows' attention,
    /// but the output projection and the MLP, most of the block's work, run on the last
    /// rows only.
    mutating func lastBlockForLastRows(_ l: Int) throws {
        try attend(l)
        keepLastRows()
        try finishBlock(l)
    }

    /// Keeps each sequence's last row of `x` and `z` as rows `0..<sequences`.
    mutating func keepLastRows() {
        let c = config, d = c.dModel, zw = c.nHeads * c.headDim
        for (i, s) in spans.enumerated() {
            let last = s.row + s.count - 1
            (x.pointer + i * d).update(from: x.pointer + last * d, count: d)
            (z.pointer + i * zw).update(from: z.pointer + last * zw, count: zw)
        }
        spans = spans.enumerated().map { i, s in
            Transformer.Span(sequence: s.sequence, row: i, count: 1, past: s.past + s.count - 1)
        }
        rows = spans.count
    }

    /// A block's first half: the attention input, q/k/v, and attention into `z`.
    mutating func attend(_ l: Int) throws {
        let c = config, lw = model.weights.layers[l], d = c.dModel
        try hook(.residPre(l), x, tail: [d])

        try norm(x, weight: lw.attnNorm, bias: lw.attnNormBias, into: h, normalized: .ln1Normalized(l))
        // q: [rows, nHeads * headDim]; k, v: [rows, nKVHeads * headDim]
        linear(h, [(lw.wq, lw.bq, q), (lw.wk, lw.bk, k), (lw.wv, lw.bv, v)])
        try hook(.q(l), q, tail: [c.nHeads, c.headDim])          // before RoPE, as TransformerLens
        try hook(.k(l), k, tail: [c.nKVHeads, c.headDim])
        try hook(.v(l), v, tail: [c.nKVHeads, c.headDim])
        if c.positionKind == .rotary {
            rope(q, heads: c.nHeads)
            rope(k, heads: c.nKVHeads)
            try hook(.rotQ(l), q, tail: [c.nHeads, c.headDim])
            try hook(.rotK(l), k, tail: [c.nKVHeads, c.headDim])
        }
        try attention(l)                                        // z: [rows, nHeads * headDim]
        try hook(.z(l), z, tail: [c.nHeads, c.headDim])
    }

    /// A block's second half: output projection, residual add, and the MLP.
    mutating func finishBlock(_ l: Int) throws {
        let c = config, lw = model.weights.layers[l], d = c.dModel
        linear(z, lw.wo, lw.bo, into: o)                        // [rows, dModel]
        try hook(.attnOut(l), o, tail: [d])
        Kernels.add(o.pointer, to: x.pointer, count: rows * d)
        try hook(.residMid(l), x, tail: [d])
        try mlp(l)
    }

    /// The MLP sublayer: `x += MLP(norm(x))`, from `resid_mid` to `resid_post`. Where the
    /// first rows' outputs are given, the MLP runs on the other rows, packed to the front of
    /// `h` (unless a hook watches the MLP's inside), and the given rows are written in.
    mutating func mlp(_ l: Int) throws {
        let c = config, lw = model.weights.layers[l], d = c.dModel
        try norm(x, weight: lw.mlpNorm, bias: lw.mlpNormBias, into: h, normalized: .ln2Normalized(l))
        try hook(.mlpIn(l), h, tail: [d])
        let givenRows = given.sources[l]
        let skipsGiven = givenRows != nil && hooks.hooks(at: .mlpPre(l)) == nil && hooks.hooks(at: .mlpPost(l)) == nil
        if skipsGiven {
            Pass.dropFirstRows(h.pointer, spans: spans, width: d)
            rows -= spans.count
        }
        if rows > 0 { try mlpProducts(l) }
        if skipsGiven {
            rows += spans.count
            Pass.restoreFirstRows(o.pointer, spans: spans, width: d)
        }
        if let givenRows {
            givenRows.withUnsafeBufferPointer { g in
                for s in spans { (o.pointer + s.row * d).update(from: g.baseAddress! + s.past * d, count: d) }
            }
        }
        try hook(.mlpOut(l), o, tail: [d])
        Kernels.add(o.pointer, to: x.pointer, count: rows * d)
        try hook(.residPost(l), x, tail: [d])
    }

    /// Moves every row of `p` but each span's first to the front, in order.
    static func dropFirstRows(_ p: UnsafeMutablePointer<Float>, spans: [Transformer.Span], width d: Int) {
        var to = 0
        for s in spans where s.count > 1 {
            // Rows only move down (to <= s.row + 1); copyMemory allows the overlap.
            UnsafeMutableRawPointer(p + to * d).copyMemory(from: p + (s.row + 1) * d,
                                                           byteCount: (s.count - 1) * d * MemoryLayout<Float>.stride)
            to += s.count - 1
        }
    }

    /// Undoes ``dropFirstRows(_:spans:width:)`` on an output: the packed rows go back to their
    /// spans, last first, and each span's first row is left as it was.
    static func restoreFirstRows(_ p: UnsafeMutablePointer<Float>, spans: [Transformer.Span], width d: Int) {
        var from = spans.reduce(0) { $0 + $1.count - 1 }
        for s in spans.reversed() where s.count > 1 {
            from -= s.count - 1
            UnsafeMutableRawPointer(p + (s.row + 1) * d).copyMemory(from: p + from * d,
                                                                    byteCount: (s.count - 1) * d * MemoryLayout<Float>.stride)
        }
    }

    /// The MLP's products and activation on rows `0..<rows` of `h`, into `o`.
    mutating func mlpProducts(_ l: Int) throws {
        let c = config, lw = model.weights.layers[l], f = c.dMLP
        switch c.mlpKind {
        case .swiGLU:
            linear(h, [(lw.wGate!, nil, a), (lw.wUp, lw.bUp, u)]) // [rows, dMLP] gate and up
            try hook(.mlpPre(l), a, tail: [f])                  // (up reads h, not the gate)
            let (ap, up) = (a.pointer, u.pointer)
            parallelChunks(rows, minimumPerChunk: 8) { r in
                Kernels.swiGLU(gate: ap + r.lowerBound * f, up: up + r.lowerBound * f, count: r.count * f)
            }
        case .geluTanh:
            linear(h, lw.wUp, lw.bUp, into: a)                  // [rows, dMLP]
            try hook(.mlpPre(l), a, tail: [f])
            let ap = a.pointer
            parallelChunks(rows, minimumPerChunk: 8) { r in
                Kernels.geluTanh(ap + r.lowerBound * f, count: r.count * f)
            }
        }
        try hook(.mlpPost(l), a, tail: [f])
        linear(a, lw.wDown, lw.bDown, into: o)                  // [rows, dModel]
    }

    /// Final norm, then logits for the rows asked for (soft-capped when
    /// ``PassOptions/finalLogitSoftcap`` is set).
    mutating func finish(_ which: Transformer.LogitRows) throws -> [Tensor] {
        let logits = try unembed(which)
        guard let cap = config.pass.finalLogitSoftcap else { return logits }
        return logits.map { t in
            var t = t
            t.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] = cap * Float.tanh(p[i] / cap) }
            }
            return t
        }
    }

    /// Final norm, then raw logits for the rows asked for.
    mutating func unembed(_ which: Transformer.LogitRows) throws -> [Tensor] {
        let w = model.weights, d = config.dModel, vocab = config.vocabSize
        norm(x, weight: w.finalNorm, bias: w.finalNormBias, into: h)
        try hook(.finalNorm, h, tail: [d])
        switch which {
        case .none:
            return []
        case .all:
            let out = FloatBuffer(count: rows * vocab)
            w.unembed.multiply(h.pointer, rows: rows, into: out.pointer)
            return spans.map { s in
                Tensor(shape: [s.count, vocab], scalars: out.array((s.row * vocab)..<((s.row + s.count) * vocab)))
            }
        case .last, .lastPacked:
            // Only the last row of each sequence is unembedded: lda skips nothing, so gather first.
            let lastRows = FloatBuffer(count: spans.count * d)
            for (i, s) in spans.enumerated() {
                (lastRows.pointer + i * d).update(from: h.pointer + (s.row + s.count - 1) * d, count: d)
            }
            let m = spans.count
            // Every product writes all of its output (sgemv after zeroing it, as it scales y by beta = 0 first).
            let out = [Float](unsafeUninitializedCapacity: m * vocab) { buffer, initialized in
                w.unembed.multiply(lastRows.pointer, rows: m, into: buffer.baseAddress!)
                initialized = m * vocab
            }
            if case .lastPacked = which { return [Tensor(shape: [m, vocab], scalars: out)] }
            return (0..<m).map { i in Tensor(shape: [1, vocab], scalars: Array(out[(i * vocab)..<((i + 1) * vocab)])) }
        }
    }

    // MARK: - Pieces

    /// `out = input · Wᵀ + b` over all rows (``WeightMatrix/multiply(_:rows:into:)``: dense
    /// sgemv/sgemm, or the weights read in place).
    func linear(_ input: FloatBuffer, _ w: WeightMatrix, _ b: Tensor?, into out: FloatBuffer) {
        let n = w.rows
        w.multiply(input.pointer, rows: rows, into: out.pointer)
        if let b {
            b.withUnsafeBufferPointer { Kernels.addBias($0.baseAddress!, to: out.pointer, rows: rows, width: n) }
        }
    }

    /// ``linear(_:_:_:into:)`` for several layers reading the same input (q/k/v, gate/up), which
    /// is packed once where the products read packed rows (``WeightMatrix/multiply(_:rows:by:into:)``).
    func linear(_ input: FloatBuffer, _ layers: [(w: WeightMatrix, b: Tensor?, out: FloatBuffer)]) {
        WeightMatrix.multiply(input.pointer, rows: rows, by: layers.map(\.w), into: layers.map(\.out.pointer))
        for (w, b, out) in layers {
            guard let b else { continue }
            b.withUnsafeBufferPointer { Kernels.addBias($0.baseAddress!, to: out.pointer, rows: rows, width: w.rows) }
        }
    }

    /// RMSNorm or LayerNorm of every row of `input` into `out`.
    func norm(_ input: FloatBuffer, weight: Tensor, bias: Tensor?, into out: FloatBuffer) {
        let c = config, d = c.dModel
        let (ip, op) = (input.pointer, out.pointer)
        weight.withUnsafeBufferPointer { wp in
            let wb = wp.baseAddress!
            switch c.normKind {
            case .rmsNorm:
                Kernels.rmsNorm(ip, weight: wb, eps: c.normEps, rows: rows, width: d, out: op)
            case .layerNorm:
                bias!.withUnsafeBufferPointer { bp in
                    Kernels.layerNorm(ip, weight: wb, bias: bp.baseAddress!, eps: c.normEps,
                                      rows: rows, width: d, out: op)
                }
            }
        }
    }

    /// ``norm(_:weight:bias:into:)`` with the `normalized` hook point (`ln1`/`ln2.hook_normalized`)
    /// between the normalization and the weight (and bias) when a hook is registered there, so
    /// a replaced value is what the weight multiplies; the fused kernel otherwise (the same
    /// floats: `x · s · 1 · w (+ 0 + b)` rounds as `x · s · w (+ b)`).
    func norm(_ input: FloatBuffer, weight: Tensor, bias: Tensor?, into out: FloatBuffer, normalized point: HookPoint) throws {
        guard hooked, hooks.hooks(at: point) != nil else { return norm(input, weight: weight, bias: bias, into: out) }
        let d = config.dModel
        let ones = Tensor(shape: [d], scalars: [Float](repeating: 1, count: d))
        norm(input, weight: ones, bias: bias.map { _ in Tensor(shape: [d], scalars: [Float](repeating: 0, count: d)) }, into: out)
        try hook(point, out, tail: [d])
        let op = out.pointer
        weight.withUnsafeBufferPointer { w in
            for r in 0..<rows { for j in 0..<d { op[r * d + j] *= w[j] } }
        }
        bias?.withUnsafeBufferPointer { b in Kernels.addBias(b.baseAddress!, to: op, rows: rows, width: d) }
    }

    /// Rotary embedding of every row of `buffer` (`[rows, heads, headDim]`) at its position.
    func rope(_ buffer: FloatBuffer, heads: Int) {
        let hd = config.headDim
        let p = buffer.pointer
        ropeCos.withUnsafeBufferPointer { c in
            ropeSin.withUnsafeBufferPointer { s in
                Kernels.rope(p, rows: rows, heads: heads, headDim: hd, rowStride: heads * hd,
                             cos: c.baseAddress!, sin: s.baseAddress!)
            }
        }
    }

    /// Calls the hooks at `point` once per sequence with its `[count] + tail` rows of
    /// `buffer` (the row-packed points: everything but `pattern`).
    func hook(_ point: HookPoint, _ buffer: FloatBuffer, tail: [Int]) throws {
        guard hooked, let list = hooks.hooks(at: point) else { return }
        let width = tail.reduce(1, *)
        for span in spans {
            try dispatch(list, at: point, span: span, shape: [span.count] + tail,
                         activation: buffer.pointer + span.row * width)
        }
    }

    /// The one way a hook list runs on one sequence's activation: a copy of the
    /// `shape`-sized floats at `activation` goes to the hooks in order, a hook that changed
    /// the shape is an error, and only when the list has a `modify` hook is the result
    /// copied back (observe-only lists cost one copy out, none back).
    func dispatch(_ list: [Hook], at point: HookPoint, span: Transformer.Span, shape: [Int],
                  activation: UnsafeMutablePointer<Float>) throws {
        let count = shape.reduce(1, *)
        var t = Tensor(shape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { buffer, written in
            // Large copies bypass the caches (they would push the pass's working set out);
            // small ones stay cached for hooks that read them right away.
            if count >= Pass.streamingCopyFloats {
                Kernels.copyStreaming(activation, to: buffer.baseAddress!, count: count)
            } else if count > 0 {
                buffer.baseAddress!.initialize(from: activation, count: count)
            }
            written = count
        })
        try Pass.call(list, on: &t, HookContext(point: point, sequence: span.sequence, positions: span.positions))
        if t.shape != shape { throw ModelError.hookShape(hook: point.name, expected: shape, found: t.shape) }
        if Pass.modifies(list) {
            t.withUnsafeBufferPointer { activation.update(from: $0.baseAddress!, count: count) }
        }
    }

    /// Floats from which a hook's copy of an activation uses non-temporal stores (256 KiB:
    /// a 128-token residual row block is 288 KiB).
    static let streamingCopyFloats = 1 << 16

    /// Whether any hook of `list` may change the activation.
    static func modifies(_ list: [Hook]) -> Bool {
        list.contains { if case .modify = $0 { true } else { false } }
    }

    /// Runs hooks in order on one activation.
    static func call(_ list: [Hook], on t: inout Tensor, _ ctx: HookContext) throws {
        for hook in list {
            switch hook {
            case .observe(let f): f(t, ctx)
            case .modify(let f): try f(&t, ctx)
            }
        }
    }
}
