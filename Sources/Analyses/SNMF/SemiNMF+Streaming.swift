import Cluster
import Linalg

extension SemiNMF {
    /// Bytes a streamed fit holds at its peak, or nil on overflow: `Y` and the best `Y`
    /// `8kn`; one chunk and its products `4c(d + 4k)`; `Zᵀ`, the best `Zᵀ`, `Y X` and the
    /// Double solve `28kd`; the SVD start's `d x d` Gram matrix and LAPACK's copies `28d²`;
    /// the rows themselves are never all in memory, and a store stream adds only 16 bytes per
    /// prompt (``SNMFStoreStream``).
    public static func streamingMemoryBytes(tokens n: Int, neurons d: Int, rank k: Int, chunkRows c: Int) -> Int? {
        checkedBytes([(8, k, n), (4, c, d + 4 * k), (28, k, d), (28, d, d)])
    }

    /// Fits rows read `chunkRows` at a time, one pass over them per iteration, with the same
    /// updates, stopping rule and result as ``fit(_:start:progress:)`` (equal up to the order
    /// of summation). Per iteration: the Z step from `Y X` and `Y Yᵀ` of the previous pass;
    /// sparsity and normalization; then, chunk by chunk, `ZᵀA_c`, Ding et al.'s update of the
    /// chunk's columns of Y, the loss's cross term and the next `Y X`.
    ///
    /// Starts: `random` draws Y as the in-memory fit does and fits Z in one pass; `kmeans`
    /// clusters in passes (2 per seed, 1 per Lloyd iteration) and fits Z in one more; `svd` builds
    /// the `d x d` Gram matrix `AAᵀ` in one pass and Y in another (with fewer tokens than
    /// neurons it reads the rows, smaller than that Gram matrix, and starts as in memory).
    /// - Throws: ``SNMFError`` for bad settings, sizes, a start of the wrong shape or rows that
    ///   change between passes.
    public func fit(chunks rows: some SNMFChunks, chunkRows: Int = 4096, start given: Start? = nil,
                    progress: ((Int, Double, Double) -> Void)? = nil) throws -> Result {
        try checkStreamed(tokens: rows.tokens, neurons: rows.neurons, chunkRows: chunkRows)
        var state = try StreamState(rows: rows, k: config.rank, chunkRows: chunkRows, span: .whole(rows.tokens))
        return try fitStreamed(&state, start: given, progress: progress)
    }

    /// - Throws: ``SNMFError`` for a rank out of range, a bad setting, `chunkRows < 1` or sizes that overflow.
    func checkStreamed(tokens n: Int, neurons d: Int, chunkRows: Int) throws {
        try SemiNMF.checkSizes(tokens: n, neurons: d, rank: config.rank)
        try config.validate()
        guard chunkRows >= 1, SemiNMF.streamingMemoryBytes(tokens: n, neurons: d, rank: config.rank, chunkRows: chunkRows) != nil else {
            throw SNMFError.invalidSetting("chunk rows \(chunkRows) must be at least 1 (and the fit's sizes must not overflow)")
        }
    }

    /// The streamed fit of `state`'s rows: on one process all of them, under MPI this rank's
    /// block (every sum over tokens all-reduced, so all ranks take the same steps). The
    /// result's `codes` are the columns of `state`'s rows only, `tokens` their count.
    func fitStreamed(_ state: inout StreamState, start given: Start?, progress: ((Int, Double, Double) -> Void)?) throws -> Result {
        let (n, d, k) = (state.n, state.d, config.rank)
        let start = try given ?? self.streamedStart(&state)
        guard start.features.count == k * d, start.codes.count == k * n else {
            throw SNMFError.invalidSetting("the start has \(start.features.count) feature and \(start.codes.count) code values, expected \(k) x \(d) and \(k) x \(n)")
        }
        guard start.codes.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw SNMFError.invalidSetting("the start's codes Y must be finite and >= 0")
        }
        (state.features, state.codes) = (start.features, start.codes)
        // The start's loss (one pass; it also gives ‖A‖² and the first Y X).
        state.zz = SemiNMF.gram(state.features, rows: k, width: d)
        try state.pass(update: nil)
        state.yy = try state.codesGram()
        var losses = [try state.agreedLoss()]
        var best = (loss: Double.infinity, iteration: 0, features: state.features, codes: state.codes)
        var stale = 0, converged = false
        let keep = config.keptNeurons(of: d), total = state.total
        for iteration in 1...config.iterations {
            state.features = try SemiNMF.solveZ(yx: state.yx, yy: state.yy, k: k, d: d, ridge: config.ridge)
            SemiNMF.sparsify(&state.features, k: k, d: d, keep: keep)
            try state.normalize()
            state.zz = SemiNMF.gram(state.features, rows: k, width: d)
            try state.pass(update: Float(config.epsilon))
            state.yy = try state.codesGram()
            let loss = try state.agreedLoss()
            losses.append(loss)
            let improved = iteration == 1 || loss < best.loss * (1 - config.tolerance)
            if loss < best.loss { best = (loss, iteration, state.features, state.codes) }
            stale = improved ? 0 : stale + 1
            progress?(iteration, loss, total > 0 ? (max(loss, 0) / total).squareRoot() : 0)
            if stale >= config.patience { converged = true; break }
        }
        return Result(config: config, tokens: n, neurons: d, features: best.features, codes: best.codes,
                      totalSquares: total, losses: losses, bestIteration: best.iteration, converged: converged)
    }

    /// The configured start, from passes over the rows.
    func streamedStart(_ state: inout StreamState) throws -> Start {
        let (n, d, k, span) = (state.n, state.d, state.k, state.span)
        switch config.initialization {
        case .random:
            // Draw number i·total + t is Y[i, t] for the global token t, whichever rank holds it.
            var rng = SeededRandom(seed: config.seed)
            var codes = [Float](repeating: 0, count: k * n)
            for i in 0..<k {
                for t in 0..<span.total {
                    let u = rng.nextUniform()
                    if t >= span.first && t < span.first + n { codes[i * n + t - span.first] = u }
                }
            }
            state.codes = codes
            state.yx = try state.productYX()
            let yy = try state.codesGram()
            let features = try SemiNMF.solveZ(yx: state.yx, yy: yy, k: k, d: d, ridge: max(config.ridge, 1e-9))
            return Start(features: features, codes: state.codes)
        case .kmeans:
            guard !span.distributed else {
                throw SNMFError.invalidSetting("the kmeans start is not distributed over MPI ranks: use the svd or random start")
            }
            state.codes = SemiNMF.kMeansCodes(try SemiNMF.kMeans(state.rows, k: k, seed: config.seed, chunkRows: state.chunkRows), k: k)
            state.yx = try state.productYX()
            let yy = SemiNMF.gram(state.codes, rows: k, width: n)
            let features = try SemiNMF.solveZ(yx: state.yx, yy: yy, k: k, d: d, ridge: max(config.ridge, 1e-9))
            return Start(features: features, codes: state.codes)
        case .svd:
            guard d <= span.total else {
                guard !span.distributed else {
                    throw SNMFError.invalidSetting("the svd start with fewer tokens (\(span.total)) than neurons (\(d)) reads every row in one process: use the random start under MPI")
                }
                // Fewer tokens than neurons: the rows (n·d < d² values) fit in the Gram matrix's place.
                var all: [Float] = []
                try state.visit { _, chunk in all += chunk.scalars }
                return try SemiNMF.svdStart(Tensor(shape: [n, d], scalars: all), rank: k)
            }
            return try state.svdStart()
        }
    }

    /// `M Mᵀ` of a row-major `[rows, width]` matrix.
    static func gram(_ m: [Float], rows: Int, width: Int) -> [Float] {
        var g = [Float](repeating: 0, count: rows * rows)
        m.withUnsafeBufferPointer { a in
            g.withUnsafeMutableBufferPointer { c in
                BLAS.gramRows(m: rows, k: width, a: a.baseAddress!, c: c.baseAddress!)
            }
        }
        return g
    }

    /// `Zᵀ = (Y Yᵀ + λI)⁻¹ (Y X)` by a Cholesky solve in Double.
    static func solveZ(yx: [Float], yy: [Float], k: Int, d: Int, ridge: Double) throws -> [Float] {
        try ridgeSolve(yy, yx, k: k, cols: d, ridge: ridge, what: "Y Yᵀ")
    }
}

/// The arrays a streamed fit keeps between passes (row-major: `features` `[k, d]`, `codes`
/// `[k, n]`) and the pass that visits the rows.
struct StreamState {
    let rows: any SNMFChunks
    let n: Int, d: Int, k: Int
    let chunkRows: Int
    /// Where these rows sit among all ranks' rows (`.whole(n)` on one process).
    let span: SNMFSpan
    var features: [Float] = []
    var codes: [Float] = []
    /// `Y X` `[k, d]` of the codes as the last pass left them; `ZᵀZ`, `Y Yᵀ` `[k, k]`.
    var yx: [Float], zz: [Float], yy: [Float]
    /// `‖A‖²` and the loss's cross term `Σ Y ⊙ ZᵀA`, from the last pass.
    var total = 0.0, cross = 0.0

    init(rows: some SNMFChunks, k: Int, chunkRows: Int, span: SNMFSpan) throws {
        self.rows = rows
        (n, d, self.k, self.chunkRows, self.span) = (rows.tokens, rows.neurons, k, chunkRows, span)
        yx = [Float](repeating: 0, count: k * d)
        zz = [Float](repeating: 0, count: k * k)
        yy = zz
    }

    /// `‖A‖² - 2 Σ Y ⊙ ZᵀA + Σ ZᵀZ ⊙ YYᵀ`.
    var loss: Double {
        var quadratic = 0.0
        for i in 0..<(k * k) { quadratic += Double(zz[i]) * Double(yy[i]) }
        return total - 2 * cross + quadratic
    }

    /// ``loss``, rank 0's on every rank (all ranks then stop at the same iteration).
    func agreedLoss() throws -> Double {
        guard span.distributed else { return loss }
        var value = [loss]
        try span.communicator.broadcast(&value, from: 0)
        return value[0]
    }

    /// `Y Yᵀ` `[k, k]` of the codes, summed over all ranks.
    func codesGram() throws -> [Float] {
        var yy = SemiNMF.gram(codes, rows: k, width: n)
        try span.communicator.allReduceSum(&yy)
        return yy
    }

    /// Visits `rows` in order, checking each chunk's place and width.
    func visit(_ body: (Int, Tensor) throws -> Void) throws {
        var expected = 0
        try rows.forEachChunk(rows: chunkRows) { first, chunk in
            guard first == expected, chunk.rank == 2, chunk.shape[1] == d, first + chunk.shape[0] <= n else {
                throw SNMFError.invalidSetting("\(rows.source): a chunk of shape \(chunk.shape) at row \(first), expected row \(expected) of \(n), width \(d)")
            }
            try body(first, chunk)
            expected += chunk.shape[0]
        }
        guard expected == n else { throw SNMFError.invalidSetting("\(rows.source): a pass gave \(expected) rows, expected \(n)") }
    }

    /// `Y X` of the current codes, in one pass.
    func productYX() throws -> [Float] {
        var yx = [Float](repeating: 0, count: k * d)
        try visit { first, chunk in
            let c = chunk.shape[0]
            let y = columns(first, c)
            y.withUnsafeBufferPointer { yp in
                chunk.withUnsafeBufferPointer { xp in
                    yx.withUnsafeMutableBufferPointer { out in
                        BLAS.gemm(m: k, n: d, k: c, a: yp.baseAddress!, b: xp.baseAddress!, c: out.baseAddress!, beta: 1)
                    }
                }
            }
        }
        try span.communicator.allReduceSum(&yx)
        return yx
    }

    /// Y's columns `first..<first+c` as a contiguous `[k, c]` array.
    func columns(_ first: Int, _ c: Int) -> [Float] {
        var y = [Float](repeating: 0, count: k * c)
        for i in 0..<k { for j in 0..<c { y[i * c + j] = codes[i * n + first + j] } }
        return y
    }

    /// Each row of Y to unit norm, its feature scaled by the old norm (ZY unchanged); under
    /// MPI the norms are of the whole rows, from all-reduced sums of squares.
    mutating func normalize() throws {
        guard span.distributed else {
            return SemiNMF.normalizeRows(codes: &codes, n: n, features: &features, width: d, k: k)
        }
        var squares = [Double](repeating: 0, count: k)
        for i in 0..<k { for j in 0..<n { squares[i] += Double(codes[i * n + j]) * Double(codes[i * n + j]) } }
        try span.communicator.allReduceSum(&squares)
        for i in 0..<k {
            let norm = Float(squares[i].squareRoot())
            guard norm > 0, norm.isFinite else { continue }
            for j in 0..<n { codes[i * n + j] /= norm }
            for j in 0..<d { features[i * d + j] *= norm }
        }
    }

    /// One pass: per chunk `ZᵀA_c`; with `update` (the epsilon) Ding et al.'s update of the
    /// chunk's codes; then the cross term, `‖A‖²` and the next `Y X` from the chunk's codes.
    mutating func pass(update epsilon: Float?) throws {
        var (total, cross) = (0.0, 0.0)
        var yx = [Float](repeating: 0, count: k * d)
        let (k, d, n, zz) = (k, d, n, zz)
        var codes: [Float] = []
        swap(&codes, &self.codes)  // updated in place, not copied
        defer { swap(&codes, &self.codes) }
        let features = self.features
        try visit { first, chunk in
            let c = chunk.shape[0]
            var y = [Float](repeating: 0, count: k * c)
            for i in 0..<k { for j in 0..<c { y[i * c + j] = codes[i * n + first + j] } }
            let za = chunk.withUnsafeBufferPointer { xp in
                total += (0..<(c * d)).reduce(0.0) { $0 + Double(xp[$1]) * Double(xp[$1]) }
                return SemiNMF.featureProduct(features, k: k, d: d, x: xp, n: c)
            }
            if let epsilon {
                SemiNMF.dingUpdate(&y, za: za, zz: zz, k: k, columns: c, epsilon: epsilon)
                for i in 0..<k { for j in 0..<c { codes[i * n + first + j] = y[i * c + j] } }
            }
            for i in 0..<(k * c) { cross += Double(y[i]) * Double(za[i]) }
            y.withUnsafeBufferPointer { yp in
                chunk.withUnsafeBufferPointer { xp in
                    yx.withUnsafeMutableBufferPointer { out in
                        BLAS.gemm(m: k, n: d, k: c, a: yp.baseAddress!, b: xp.baseAddress!, c: out.baseAddress!, beta: 1)
                    }
                }
            }
        }
        if span.distributed {
            var sums = [total, cross] + yx.map(Double.init)
            try span.communicator.allReduceSum(&sums)
            (total, cross) = (sums[0], sums[1])
            for i in 0..<(k * d) { yx[i] = Float(sums[2 + i]) }
        }
        (self.total, self.cross, self.yx) = (total, cross, yx)
    }

    /// The SVD start from the `d x d` Gram matrix `Σ X_cᵀ X_c` (one pass) and `Y = |Σ⁻¹ Uᵀ Xᵀ|`
    /// (another), as ``SemiNMF/start(for:)`` does for `d <= n`.
    mutating func svdStart() throws -> SemiNMF.Start {
        let (n, d, k, span) = (n, d, k, span)
        var gram = [Float](repeating: 0, count: d * d)
        try visit { _, chunk in
            chunk.withUnsafeBufferPointer { xp in
                gram.withUnsafeMutableBufferPointer { g in
                    BLAS.gemmTransposedA(m: d, n: d, k: chunk.shape[0], a: xp.baseAddress!, b: xp.baseAddress!, c: g.baseAddress!, beta: 1)
                }
            }
        }
        try span.communicator.allReduceSum(&gram)
        // Rank 0 decomposes and sends Σ and U's top k columns (one set of signs for all ranks).
        var shared = [Double](repeating: 0, count: k + k * d)
        if span.communicator.rank == 0 {
            let (u, s, _) = try LAPACK.svd(gram.map(Double.init), rows: d, cols: d)
            for i in 0..<k { shared[i] = max(s[i], 0).squareRoot() }
            for i in 0..<k { for j in 0..<d { shared[k + i * d + j] = Double(Float(u[j * d + i])) } }
        }
        try span.communicator.broadcast(&shared, from: 0)
        let sigma = Array(shared[0..<k])
        let side = shared[k...].map { Float($0) }
        var codes = [Float](repeating: 0, count: k * n)
        try visit { first, chunk in
            let c = chunk.shape[0]
            var part = [Float](repeating: 0, count: k * c)
            side.withUnsafeBufferPointer { sp in
                chunk.withUnsafeBufferPointer { xp in
                    part.withUnsafeMutableBufferPointer { o in
                        BLAS.gemmTransposedB(m: k, n: c, k: d, a: sp.baseAddress!, b: xp.baseAddress!, c: o.baseAddress!)
                    }
                }
            }
            for i in 0..<k { for j in 0..<c { codes[i * n + first + j] = part[i * c + j] } }
        }
        var features = [Float](repeating: 0, count: k * d)
        let floor = (sigma.first ?? 0) * 1e-6
        let kept = (0..<k).map { sigma[$0] > floor && sigma[$0] != 0 }
        var sums = [Double](repeating: 0, count: k)
        for i in 0..<k where kept[i] {
            for j in 0..<n { codes[i * n + j] *= Float(1 / sigma[i]); sums[i] += Double(codes[i * n + j]) }
        }
        try span.communicator.allReduceSum(&sums)
        for i in 0..<k {
            guard kept[i] else {
                for j in 0..<n { codes[i * n + j] = Float(1 / Double(span.total).squareRoot()) }
                continue
            }
            let sign: Float = sums[i] < 0 ? -1 : 1
            for j in 0..<d { features[i * d + j] = sign * side[i * d + j] * Float(sigma[i]) }
            for j in 0..<n { codes[i * n + j] = abs(codes[i * n + j]) }
        }
        return SemiNMF.Start(features: features, codes: codes)
    }
}
