import Linalg

extension SemiNMF {
    /// The starting point that ``Config/initialization`` chooses for `rows`.
    ///
    /// - `random`: `Y` uniform in [0, 1) drawn row by row from `SeededRandom(seed)`, `Zᵀ` the
    ///   ridge least-squares fit to it (the Z step without sparsity).
    /// - `kmeans`: `Y` the k-means cluster indicator plus 0.2 (``kMeansCodes(_:k:)``), `Zᵀ`
    ///   the ridge least-squares fit to it.
    /// - `svd`: the top-k singular triplets of `A`, from `LAPACK.svd` of the Gram matrix of
    ///   the smaller side (`AAᵀ`, `d x d`, when d <= n, else `AᵀA`, `n x n`): `Y` is the
    ///   **absolute value** of the right singular vectors (rows of `Vᵀ`, unit norm), `Zᵀ` is
    ///   `Σ Uᵀ`, each triplet's sign chosen so its right vector sums to >= 0. A singular value
    ///   below 1e-6 of the largest gives a constant `Y` row and a zero feature.
    /// - Throws: ``SNMFError`` for a rank out of range, `LinalgError` if LAPACK fails.
    public func start(for rows: SNMFRows) throws -> Start {
        let (n, d, k) = (rows.tokens, rows.neurons, config.rank)
        try SemiNMF.checkSizes(tokens: n, neurons: d, rank: k)
        switch config.initialization {
        case .random:
            var rng = SeededRandom(seed: config.seed)
            let codes = (0..<(k * n)).map { _ in rng.nextUniform() }
            let features = try SemiNMF.zStep(x: rows.matrix, codes: codes, k: k, ridge: max(config.ridge, 1e-9))
            return Start(features: features, codes: codes)
        case .svd:
            return try SemiNMF.svdStart(rows.matrix, rank: k)
        case .kmeans:
            let codes = SemiNMF.kMeansCodes(try SemiNMF.kMeans(rows, k: k, seed: config.seed), k: k)
            let features = try SemiNMF.zStep(x: rows.matrix, codes: codes, k: k, ridge: max(config.ridge, 1e-9))
            return Start(features: features, codes: codes)
        }
    }

    /// The SVD start (see ``start(for:)``).
    static func svdStart(_ x: Tensor, rank k: Int) throws -> Start {
        let (n, d) = (x.shape[0], x.shape[1])
        let m = min(n, d)
        var gram = [Float](repeating: 0, count: m * m)
        x.withUnsafeBufferPointer { xp in
            gram.withUnsafeMutableBufferPointer { g in
                if d <= n {
                    BLAS.gemmTransposedA(m: d, n: d, k: n, a: xp.baseAddress!, b: xp.baseAddress!, c: g.baseAddress!)
                } else {
                    BLAS.gemmTransposedB(m: n, n: n, k: d, a: xp.baseAddress!, b: xp.baseAddress!, c: g.baseAddress!)
                }
            }
        }
        let (u, s, _) = try LAPACK.svd(gram.map(Double.init), rows: m, cols: m)
        let sigma = s.prefix(k).map { max($0, 0).squareRoot() }
        // The top-k singular vectors of the Gram's side, as rows ([k, m]).
        var side = [Float](repeating: 0, count: k * m)
        for i in 0..<k { for j in 0..<m { side[i * m + j] = Float(u[j * m + i]) } }
        var features = [Float](repeating: 0, count: k * d)
        var codes = [Float](repeating: 0, count: k * n)
        x.withUnsafeBufferPointer { xp in
            side.withUnsafeBufferPointer { sp in
                if d <= n {  // side = Uᵀ; Vᵀ = Σ⁻¹ Uᵀ A, i.e. rows of Uᵀ Xᵀ scaled.
                    codes.withUnsafeMutableBufferPointer { c in
                        BLAS.gemmTransposedB(m: k, n: n, k: d, a: sp.baseAddress!, b: xp.baseAddress!, c: c.baseAddress!)
                    }
                    for i in 0..<k { for j in 0..<d { features[i * d + j] = side[i * d + j] * Float(sigma[i]) } }
                } else {  // side = Vᵀ; Σ Uᵀ = Vᵀ Aᵀ = Vᵀ X.
                    features.withUnsafeMutableBufferPointer { f in
                        BLAS.gemm(m: k, n: d, k: n, a: sp.baseAddress!, b: xp.baseAddress!, c: f.baseAddress!)
                    }
                    codes = side
                }
            }
        }
        let floor = (sigma.first ?? 0) * 1e-6
        for i in 0..<k {
            if sigma[i] <= floor || sigma[i] == 0 {
                for j in 0..<n { codes[i * n + j] = Float(1 / Double(n).squareRoot()) }
                for j in 0..<d { features[i * d + j] = 0 }
                continue
            }
            let scale: Float = d <= n ? Float(1 / sigma[i]) : 1
            var sum = 0.0
            for j in 0..<n { codes[i * n + j] *= scale; sum += Double(codes[i * n + j]) }
            if sum < 0 { for j in 0..<d { features[i * d + j] = -features[i * d + j] } }
            for j in 0..<n { codes[i * n + j] = abs(codes[i * n + j]) }
        }
        return Start(features: features, codes: codes)
    }
}
