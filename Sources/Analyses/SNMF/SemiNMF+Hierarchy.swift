import Linalg

extension SemiNMF {
    /// A hierarchy of semi-NMF levels (deep semi-NMF, Trigeorgis et al. 2014, as Shafran et al.
    /// build feature hierarchies): `A ≈ Z₁ Z₂ ··· Z_L Y_L`, `Y_L >= 0`, ranks decreasing.
    /// Level i's features in neuron space are the columns of `Z₁ ··· Z_i`; a coarse feature is
    /// a mix of the finer features below it, given by the columns of `Z_{i+1}`.
    public struct Hierarchy: Sendable {
        /// One level: its rank, `Z_iᵀ` (`[k_i, k_{i-1}]`, `[k₁, d]` for the first) and its
        /// features in neuron space `(Z₁ ··· Z_i)ᵀ` (`[k_i, d]`).
        public struct Level: Sendable {
            public var rank: Int
            public var mixing: [Float]
            public var features: [Float]
        }

        public var levels: [Level]
        /// `Y_L`, `[k_L, n]`, >= 0.
        public var codes: [Float]
        public var tokens: Int, neurons: Int
        /// `‖A‖²`.
        public var totalSquares: Double
        /// Each level's own fit when it was pretrained (level i > 1 factorizes level i-1's codes).
        public var pretraining: [Result]
        /// `‖A - Z₁ ··· Z_L Y_L‖²` of the stacked pretrained levels, then after each fine-tuning sweep.
        public var losses: [Double]
        /// The sweep (0: the pretrained stack) whose factors are kept.
        public var bestSweep: Int

        public var relativeErrors: [Double] { losses.map { totalSquares > 0 ? (max($0, 0) / totalSquares).squareRoot() : 0 } }
        public var relativeError: Double { relativeErrors[bestSweep] }

        /// Level `level`'s (1-based) feature `feature` as the mix of the level below it: the
        /// `count` finer features with the largest weights, largest first.
        public func children(level: Int, feature: Int, count: Int = 5) -> [(feature: Int, weight: Float)] {
            guard level >= 2, level <= levels.count, feature >= 0, feature < levels[level - 1].rank else { return [] }
            let below = levels[level - 2].rank
            let row = levels[level - 1].mixing[(feature * below)..<((feature + 1) * below)]
            return SemiNMF.Result.top(min(count, below), of: row, by: { $0 }).map { ($0, row[row.startIndex + $0]) }
        }
    }

    /// Fits levels of ranks `ranks` (strictly decreasing) by pretraining each level on the one
    /// below (level 1 on the rows with this fit's settings; level i on level i-1's codes, with
    /// the same settings but no sparsity), then `sweeps` sweeps of joint fine-tuning: each `Z_i`
    /// by least squares given the others, held near its current value by a proximal term of
    /// relative weight `proximal` (so the levels keep their meaning; each such step cannot raise
    /// the loss), `Z₁` kept to the top neurons per feature, then Ding et al.'s update of `Y_L`
    /// against `Z₁ ··· Z_L`. The best sweep is kept.
    /// - Throws: ``SNMFError`` for ranks that do not decrease or exceed the data, bad settings.
    /// - Parameter first: a fit of `rows` at `ranks[0]` already made (used as level 1).
    public func fitHierarchy(_ rows: SNMFRows, ranks: [Int], first given: Result? = nil, sweeps: Int = 50, proximal: Double = 0.01,
                             progress: ((String) -> Void)? = nil) throws -> Hierarchy {
        guard let first = ranks.first, zip(ranks, ranks.dropFirst()).allSatisfy({ $0 > $1 }), ranks.last! >= 1 else {
            throw SNMFError.invalidSetting("hierarchy ranks \(ranks) must be positive and strictly decreasing, e.g. 100,20,5")
        }
        guard sweeps >= 0 else { throw SNMFError.invalidSetting("fine-tuning sweeps \(sweeps) must be >= 0") }
        guard proximal > 0, proximal.isFinite else { throw SNMFError.invalidSetting("the proximal weight \(proximal) must be positive") }
        let (n, d) = (rows.tokens, rows.neurons)
        var levelConfig = config
        levelConfig.rank = first
        if let given, given.rank != first || given.tokens != rows.tokens || given.neurons != rows.neurons {
            throw SNMFError.invalidSetting("the given level-1 fit has rank \(given.rank) over \(given.tokens) x \(given.neurons), not rank \(first) over \(rows.tokens) x \(rows.neurons)")
        }
        var pretraining = [try given ?? SemiNMF(config: levelConfig).fit(rows)]
        progress?("level 1 (rank \(first)): relative error \(pretraining[0].relativeError)")
        for (i, k) in ranks.enumerated().dropFirst() {
            let below = pretraining[i - 1]
            var transposed = [Float](repeating: 0, count: n * below.rank)
            for f in 0..<below.rank { for t in 0..<n { transposed[t * below.rank + f] = below.codes[f * n + t] } }
            levelConfig.rank = k
            levelConfig.sparsity = 0
            let codesAsRows = try SNMFRows(matrix: Tensor(shape: [n, below.rank], scalars: transposed), source: "level \(i) codes")
            pretraining.append(try SemiNMF(config: levelConfig).fit(codesAsRows))
            progress?("level \(i + 1) (rank \(k)) of level \(i)'s codes: relative error \(pretraining[i].relativeError)")
        }
        var tuner = HierarchyTuner(x: rows.matrix, ranks: ranks, mixing: pretraining.map(\.features), codes: pretraining.last!.codes,
                                   ridge: config.ridge, epsilon: Float(config.epsilon), keep: config.keptNeurons(of: d), proximal: proximal)
        var losses = [tuner.loss()]
        var best = (loss: losses[0], sweep: 0, mixing: tuner.mixing, codes: tuner.codes)
        for sweep in 0..<sweeps {
            try tuner.sweep()
            losses.append(tuner.loss())
            if losses.last! < best.loss { best = (losses.last!, sweep + 1, tuner.mixing, tuner.codes) }
            if (sweep + 1) % 10 == 0 { progress?("fine-tuning sweep \(sweep + 1): relative error \((max(losses.last!, 0) / tuner.total).squareRoot())") }
        }
        let levels = ranks.indices.map { i in
            Hierarchy.Level(rank: ranks[i], mixing: best.mixing[i], features: HierarchyTuner.chain(best.mixing, through: i, ranks: ranks, d: d))
        }
        return Hierarchy(levels: levels, codes: best.codes, tokens: n, neurons: d, totalSquares: tuner.total,
                         pretraining: pretraining, losses: losses, bestSweep: best.sweep)
    }
}

/// The joint fine-tuning of a hierarchy's levels (row-major: `mixing[i]` is `Z_iᵀ`,
/// `[k_i, k_{i-1}]` with `k_0 = d`; `codes` is `Y_L`, `[k_L, n]`).
struct HierarchyTuner {
    let x: Tensor
    let ranks: [Int]
    var mixing: [[Float]]
    var codes: [Float]
    let ridge: Double, epsilon: Float, keep: Int
    /// The proximal weight, relative to the scale of the level's normal equations.
    let proximal: Double
    let n: Int, d: Int
    let total: Double

    init(x: Tensor, ranks: [Int], mixing: [[Float]], codes: [Float], ridge: Double, epsilon: Float, keep: Int, proximal: Double) {
        (self.x, self.ranks, self.mixing, self.codes, self.ridge, self.epsilon, self.keep) = (x, ranks, mixing, codes, ridge, epsilon, keep)
        self.proximal = proximal
        (n, d) = (x.shape[0], x.shape[1])
        total = x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
    }

    /// `c[m, p] = a[m, q] · b[q, p]` (row-major, sgemm).
    static func product(_ a: [Float], _ b: [Float], m: Int, q: Int, p: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * p)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(m: m, n: p, k: q, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
        } } }
        return c
    }

    /// `(Z₁ ··· Z_{level+1})ᵀ = Z_{level+1}ᵀ ··· Z₁ᵀ`, `[k_level, d]` (0-based `level`).
    static func chain(_ mixing: [[Float]], through level: Int, ranks: [Int], d: Int) -> [Float] {
        var out = mixing[0]
        for i in stride(from: 1, through: level, by: 1) { out = product(mixing[i], out, m: ranks[i], q: ranks[i - 1], p: d) }
        return out
    }

    /// `Z_{level+2} ··· Z_L Y_L`, `[k_level, n]`: what level `level` (0-based) must reproduce.
    func target(of level: Int) -> [Float] {
        var h = codes
        for j in stride(from: ranks.count - 1, to: level, by: -1) {
            // Z_j Y = (Z_jᵀ)ᵀ Y: [k_{j-1}, k_j] · [k_j, n].
            var out = [Float](repeating: 0, count: ranks[j - 1] * n)
            mixing[j].withUnsafeBufferPointer { m in h.withUnsafeBufferPointer { hp in out.withUnsafeMutableBufferPointer { o in
                BLAS.gemmTransposedA(m: ranks[j - 1], n: n, k: ranks[j], a: m.baseAddress!, b: hp.baseAddress!, c: o.baseAddress!)
            } } }
            h = out
        }
        return h
    }

    /// Solves `(S + ridge·I) W = B` for symmetric `s` `[k, k]` and `b` `[k, cols]`.
    func solve(_ s: [Float], _ b: [Float], k: Int, cols: Int, ridge: Double) throws -> [Float] {
        try SemiNMF.ridgeSolve(s, b, k: k, cols: cols, ridge: ridge, what: "a hierarchy level's H̃H̃ᵀ")
    }

    /// `M` (`[k, below]`) solving `G M P + μ M = C + μ M_old` for symmetric `G` `[k, k]`, `P`
    /// `[below, below]`: the least-squares step for `Z_iᵀ` given the other levels, held near its
    /// current value by the proximal term (the levels' product is all the loss sees, so without
    /// it a level could drift anywhere in that product's null space). In the eigenbases
    /// `G = V Σ Vᵀ`, `P = U Λ Uᵀ` the system is diagonal: `M' = Vᵀ(C + μ M_old)U ⊘ (σ λᵀ + μ)`.
    static func proximalSolve(g: [Float], p: [Float], c: [Float], old: [Float], k: Int, below: Int, mu: Double) throws -> [Float] {
        let (sg, vg) = try LAPACK.symmetricEigen(g.map(Double.init), n: k)
        let (sp, up) = try LAPACK.symmetricEigen(p.map(Double.init), n: below)
        var r = (0..<(k * below)).map { Double(c[$0]) + mu * Double(old[$0]) }
        // r ← Vᵀ r U
        var t = [Double](repeating: 0, count: k * below)
        for a in 0..<k { for j in 0..<k where vg[j * k + a] != 0 { let v = vg[j * k + a]; for b in 0..<below { t[a * below + b] += v * r[j * below + b] } } }
        r = [Double](repeating: 0, count: k * below)
        for a in 0..<k { for j in 0..<below { let x = t[a * below + j]; if x != 0 { for b in 0..<below { r[a * below + b] += x * up[j * below + b] } } } }
        for a in 0..<k { for b in 0..<below { r[a * below + b] /= max(sg[a], 0) * max(sp[b], 0) + mu } }
        // M = V r Uᵀ
        t = [Double](repeating: 0, count: k * below)
        for i in 0..<k { for a in 0..<k { let v = vg[i * k + a]; if v != 0 { for b in 0..<below { t[i * below + b] += v * r[a * below + b] } } } }
        var m = [Float](repeating: 0, count: k * below)
        for i in 0..<k { for j in 0..<below {
            var sum = 0.0
            for b in 0..<below { sum += t[i * below + b] * up[j * below + b] }
            m[i * below + j] = Float(sum)
        } }
        return m
    }

    /// One sweep: every `Z_i` given the others, then `Y_L`.
    mutating func sweep() throws {
        for i in ranks.indices {
            let k = ranks[i], below = i == 0 ? d : ranks[i - 1]
            let h = target(of: i)  // [k, n]
            let hh = SemiNMF.gram(h, rows: k, width: n)
            var hx = [Float](repeating: 0, count: k * d)  // H̃ X, [k, d]
            h.withUnsafeBufferPointer { hp in x.withUnsafeBufferPointer { xp in hx.withUnsafeMutableBufferPointer { o in
                BLAS.gemm(m: k, n: d, k: n, a: hp.baseAddress!, b: xp.baseAddress!, c: o.baseAddress!)
            } } }
            let traceG = (0..<k).reduce(0.0) { $0 + Double(hh[$1 * k + $1]) } / Double(k)
            if i == 0 {
                // (H̃H̃ᵀ + μI) Z₁ᵀ = H̃X + μ Z₁ᵀ(old)
                let mu = proximal * traceG
                var rhs = hx
                for j in 0..<(k * d) { rhs[j] += Float(mu) * mixing[0][j] }
                mixing[0] = try solve(hh, rhs, k: k, cols: d, ridge: mu + ridge)
                SemiNMF.sparsify(&mixing[0], k: k, d: d, keep: keep)
                continue
            }
            let psiT = HierarchyTuner.chain(mixing, through: i - 1, ranks: ranks, d: d)  // Ψᵀ, [below, d]
            var c = [Float](repeating: 0, count: k * below)  // H̃ X Ψ, [k, below]
            hx.withUnsafeBufferPointer { a in psiT.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { o in
                BLAS.gemmTransposedB(m: k, n: below, k: d, a: a.baseAddress!, b: b.baseAddress!, c: o.baseAddress!)
            } } }
            let pp = SemiNMF.gram(psiT, rows: below, width: d)
            let traceP = (0..<below).reduce(0.0) { $0 + Double(pp[$1 * below + $1]) } / Double(below)
            mixing[i] = try HierarchyTuner.proximalSolve(g: hh, p: pp, c: c, old: mixing[i], k: k, below: below, mu: proximal * traceG * traceP)
        }
        try updateCodes()
    }

    /// Rows of `Y_L` to unit norm (Z_L compensating), then Ding et al.'s update against `Φ = Z₁ ··· Z_L`.
    mutating func updateCodes() throws {
        let (kL, last) = (ranks.last!, ranks.count - 1)
        let below = last == 0 ? d : ranks[last - 1]
        SemiNMF.normalizeRows(codes: &codes, n: n, features: &mixing[last], width: below, k: kL)
        let phiT = HierarchyTuner.chain(mixing, through: last, ranks: ranks, d: d)
        var za = [Float](repeating: 0, count: kL * n)
        phiT.withUnsafeBufferPointer { f in x.withUnsafeBufferPointer { xp in za.withUnsafeMutableBufferPointer { o in
            BLAS.gemmTransposedB(m: kL, n: n, k: d, a: f.baseAddress!, b: xp.baseAddress!, c: o.baseAddress!)
        } } }
        let zz = SemiNMF.gram(phiT, rows: kL, width: d)
        SemiNMF.dingUpdate(&codes, za: za, zz: zz, k: kL, columns: n, epsilon: epsilon)
    }

    /// `‖A - Φ Y_L‖²` from `‖A‖²`, `Σ Y ⊙ ΦᵀA` and `Σ ΦᵀΦ ⊙ YYᵀ`.
    func loss() -> Double {
        let kL = ranks.last!
        let phiT = HierarchyTuner.chain(mixing, through: ranks.count - 1, ranks: ranks, d: d)
        var za = [Float](repeating: 0, count: kL * n)
        phiT.withUnsafeBufferPointer { f in x.withUnsafeBufferPointer { xp in za.withUnsafeMutableBufferPointer { o in
            BLAS.gemmTransposedB(m: kL, n: n, k: d, a: f.baseAddress!, b: xp.baseAddress!, c: o.baseAddress!)
        } } }
        let zz = SemiNMF.gram(phiT, rows: kL, width: d), yy = SemiNMF.gram(codes, rows: kL, width: n)
        var cross = 0.0, quadratic = 0.0
        for i in 0..<(kL * n) { cross += Double(codes[i]) * Double(za[i]) }
        for i in 0..<(kL * kL) { quadratic += Double(zz[i]) * Double(yy[i]) }
        return total - 2 * cross + quadratic
    }
}
