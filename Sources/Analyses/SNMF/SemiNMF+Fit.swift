import Linalg

extension SemiNMF {
    /// Bytes a fit of `n` tokens, `d` neurons and rank `k` holds at its peak, or nil on
    /// overflow: the rows `4nd`; `Y`, the buffer the update writes, the best `Y` and `ZᵀA`
    /// `4 · 4kn`; `Zᵀ`, the best `Zᵀ`, `Y X` and the Double solve `28kd`; the SVD start's
    /// Gram matrix and LAPACK's copies `28 m²` with `m = min(n, d)`.
    public static func memoryBytes(tokens n: Int, neurons d: Int, rank k: Int) -> Int? {
        let m = min(n, d)
        return checkedBytes([(4, n, d), (16, k, n), (28, k, d), (28, m, m)])
    }

    /// Checks `1 <= k <= min(n, d)` and that the fit's arrays can be sized.
    static func checkSizes(tokens n: Int, neurons d: Int, rank k: Int) throws {
        guard n > 0, d > 0 else { throw SNMFError.empty("\(n) tokens x \(d) neurons") }
        guard k >= 1, k <= min(n, d) else { throw SNMFError.rankOutOfRange(rank: k, tokens: n, neurons: d) }
        guard memoryBytes(tokens: n, neurons: d, rank: k) != nil, n <= Int(Int32.max), d <= Int(Int32.max) else {
            throw SNMFError.tooLarge("\(n) tokens x \(d) neurons at rank \(k) overflow the sizes one fit can hold")
        }
    }

    /// The Z step: `Zᵀ = (Y Yᵀ + λI)⁻¹ Y X`, i.e. `Z = A Yᵀ (Y Yᵀ + λI)⁻¹`, by a Cholesky
    /// solve of the k x k system in Double (never an inverse). `yy` is `Y Yᵀ` when known.
    static func zStep(x: Tensor, codes: [Float], k: Int, ridge: Double, yy known: [Float]? = nil) throws -> [Float] {
        let (n, d) = (x.shape[0], x.shape[1])
        var b = [Float](repeating: 0, count: k * d)
        codes.withUnsafeBufferPointer { y in
            x.withUnsafeBufferPointer { xp in
                b.withUnsafeMutableBufferPointer { bp in
                    BLAS.gemm(m: k, n: d, k: n, a: y.baseAddress!, b: xp.baseAddress!, c: bp.baseAddress!)
                }
            }
        }
        return try solveZ(yx: b, yy: known ?? gram(codes, rows: k, width: n), k: k, d: d, ridge: ridge)
    }

    /// Keeps the `keep` largest-magnitude entries of each row of `features` (`[k, d]`) and
    /// zeroes the rest; ties go to the lower index. Linear time per row: the `keep`-th largest
    /// magnitude by quickselect on a copy, then a scan keeping what is above it and, of what
    /// equals it, the lowest indices (the same entries a stable sort would keep).
    public static func sparsify(_ features: inout [Float], k: Int, d: Int, keep: Int) {
        guard keep < d, keep > 0 else {
            if keep <= 0 { for i in 0..<(k * d) { features[i] = 0 } }
            return
        }
        var magnitudes = [Float](repeating: 0, count: d)
        for i in 0..<k {
            let base = i * d
            for j in 0..<d { magnitudes[j] = abs(features[base + j]) }
            let cut = SemiNMF.select(&magnitudes, rank: keep - 1)  // the keep-th largest
            var above = 0
            for j in 0..<d where abs(features[base + j]) > cut { above += 1 }
            var ties = keep - above
            for j in 0..<d {
                let m = abs(features[base + j])
                if m > cut { continue }
                if m == cut && ties > 0 { ties -= 1; continue }
                features[base + j] = 0
            }
        }
    }

    /// The value that would sit at index `rank` if `values` were sorted in decreasing order
    /// (Hoare's quickselect with a median-of-three pivot; reorders `values`).
    static func select(_ values: inout [Float], rank: Int) -> Float {
        var (lo, hi) = (0, values.count - 1)
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let pivot = max(min(values[lo], values[mid]), min(max(values[lo], values[mid]), values[hi]))
            var (i, j) = (lo, hi)
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if rank <= j { hi = j } else if rank >= i { lo = i } else { return values[rank] }
        }
        return values[rank]
    }

    /// Fits `rows` from `start` (nil: the configured initialization).
    ///
    /// Each iteration: the Z step (ridge least squares, Cholesky); the sparsity step (top
    /// fraction of neurons per feature); each feature's row of Y scaled to unit norm and its
    /// column of Z scaled to compensate; Ding et al.'s update
    /// `Y ← Y ⊙ sqrt(((ZᵀA)⁺ + (ZᵀZ)⁻Y) / ((ZᵀA)⁻ + (ZᵀZ)⁺Y + ε))`; then the loss
    /// `‖A‖² - 2 tr(Yᵀ ZᵀA) + tr(ZᵀZ · YYᵀ)` from those products (ZY is never formed).
    /// The best iterate is kept; the fit stops when `patience` iterations in a row lower the
    /// best loss by less than `tolerance` of it, or at the iteration cap.
    /// - Parameters:
    ///   - progress: called after each iteration with (iteration, loss, relative error).
    ///   - steps: when given, each step of each iteration is timed and reported as (step name,
    ///     seconds): `z step`, `sparsity`, `normalize`, `Z'A`, `update`, `YY'`, `loss` (benchmarks).
    /// - Throws: ``SNMFError`` for bad settings, sizes or a start of the wrong shape.
    public func fit(_ rows: SNMFRows, start given: Start? = nil,
                    progress: ((Int, Double, Double) -> Void)? = nil,
                    steps: ((String, Double) -> Void)? = nil) throws -> Result {
        let (n, d, k) = (rows.tokens, rows.neurons, config.rank)
        try SemiNMF.checkSizes(tokens: n, neurons: d, rank: k)
        try config.validate()
        let start = try given ?? self.start(for: rows)
        guard start.features.count == k * d, start.codes.count == k * n else {
            throw SNMFError.invalidSetting("the start has \(start.features.count) feature and \(start.codes.count) code values, expected \(k) x \(d) and \(k) x \(n)")
        }
        guard start.codes.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw SNMFError.invalidSetting("the start's codes Y must be finite and >= 0")
        }
        let x = rows.matrix
        let total = x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
        var w = SNMFWorkspace(x: x, k: k, features: start.features, codes: start.codes)
        w.multiplyZ()
        w.crossTerm()
        w.gramY()
        var losses = [w.loss(total)]
        var best = (loss: Double.infinity, iteration: 0, features: w.features, codes: w.codes)
        var stale = 0, converged = false
        let keep = config.keptNeurons(of: d)
        for iteration in 1...config.iterations {
            let clock = ContinuousClock()
            func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
                guard let steps else { return try body() }
                let started = clock.now
                let value = try body()
                let took = (clock.now - started).components
                steps(name, Double(took.seconds) + Double(took.attoseconds) * 1e-18)
                return value
            }
            w.features = try timed("z step") { try SemiNMF.zStep(x: x, codes: w.codes, k: k, ridge: config.ridge, yy: w.yy) }
            timed("sparsity") { SemiNMF.sparsify(&w.features, k: k, d: d, keep: keep) }
            timed("normalize") { w.normalize() }
            timed("Z'A") { w.multiplyZ() }
            timed("update") { w.updateCodes(epsilon: Float(config.epsilon)) }
            timed("YY'") { w.gramY() }
            let loss = timed("loss") { w.loss(total) }
            losses.append(loss)
            let improved = iteration == 1 || loss < best.loss * (1 - config.tolerance)
            if loss < best.loss { best = (loss, iteration, w.features, w.codes) }
            stale = improved ? 0 : stale + 1
            progress?(iteration, loss, total > 0 ? (max(loss, 0) / total).squareRoot() : 0)
            if stale >= config.patience { converged = true; break }
        }
        return Result(config: config, tokens: n, neurons: d, features: best.features, codes: best.codes,
                      totalSquares: total, losses: losses, bestIteration: best.iteration, converged: converged)
    }
}
