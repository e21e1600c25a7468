import Linalg

/// The arrays one in-memory fit iterates on (row-major: `features` `[k, d]`, `codes` `[k, n]`).
///
/// Y's rows are not scaled to unit norm in a pass of their own: ``normalize()`` takes the norms
/// from `Y Yᵀ`'s diagonal, scales the features, and the update applies `1 / norm` as it writes.
/// The update writes a second buffer, so the kept best iterate is never copied while it stays best.
struct SNMFWorkspace {
    let x: Tensor
    let n: Int, d: Int, k: Int
    var features: [Float]
    var codes: [Float]
    /// Where the next update writes (then swapped with `codes`).
    var next: [Float]
    /// `ZᵀA` `[k, n]`, `ZᵀZ` `[k, k]`, `Y Yᵀ` `[k, k]`.
    var za: [Float], zz: [Float], yy: [Float]
    /// Per row of Y, the factor the next update applies (1 / its norm; 1 for a zero row).
    var rowScale: [Float]
    /// `Σ Y ⊙ ZᵀA` of the current codes, in Double.
    var cross = 0.0

    init(x: Tensor, k: Int, features: [Float], codes: [Float]) {
        self.x = x
        (n, d, self.k) = (x.shape[0], x.shape[1], k)
        self.features = features
        self.codes = codes
        next = [Float](repeating: 0, count: k * n)
        za = next
        zz = [Float](repeating: 0, count: k * k)
        yy = zz
        rowScale = [Float](repeating: 1, count: k)
    }

    /// `ZᵀA = Zᵀ Xᵀ` (from the nonzeros when Z is sparse enough) into the kept buffer, and `ZᵀZ`.
    mutating func multiplyZ() {
        let (n, d, k, features) = (n, d, k, features)
        x.withUnsafeBufferPointer { xp in
            za.withUnsafeMutableBufferPointer { SemiNMF.featureProduct(features, k: k, d: d, x: xp, n: n, into: $0) }
        }
        zz = SemiNMF.gram(features, rows: k, width: d)
    }

    /// The cross term of the start (before any update).
    mutating func crossTerm() {
        var sum = 0.0
        for i in 0..<(k * n) { sum += Double(codes[i]) * Double(za[i]) }
        cross = sum
    }

    /// `Y Yᵀ`.
    mutating func gramY() {
        let (n, k) = (n, k)
        codes.withUnsafeBufferPointer { y in
            yy.withUnsafeMutableBufferPointer { c in
                BLAS.gramRows(m: k, k: n, a: y.baseAddress!, c: c.baseAddress!)
            }
        }
    }

    /// Each row of Y to unit norm (norms from `Y Yᵀ`'s diagonal, which must be current), its
    /// feature scaled by the old norm, so ZY is unchanged; the codes are scaled by the next
    /// ``updateCodes(epsilon:)``. A zero row is left alone.
    mutating func normalize() {
        for i in 0..<k {
            let norm = Float(Double(yy[i * k + i]).squareRoot())
            guard norm > 0, norm.isFinite else { rowScale[i] = 1; continue }
            rowScale[i] = 1 / norm
            for j in 0..<d { features[i * d + j] *= norm }
        }
    }

    /// Ding et al.'s multiplicative update of Y from `ZᵀA` and `ZᵀZ` (with the row scales of
    /// ``normalize()``), into the spare buffer, which then becomes `codes`; sets ``cross``.
    mutating func updateCodes(epsilon: Float) {
        let (k, n, zz, scale) = (k, n, zz, rowScale)
        cross = codes.withUnsafeBufferPointer { y in
            next.withUnsafeMutableBufferPointer { out in
                za.withUnsafeBufferPointer { a in
                    SemiNMF.dingUpdate(y.baseAddress!, into: out.baseAddress!, za: a.baseAddress!, zz: zz, scale: scale,
                                       k: k, columns: n, epsilon: epsilon)
                }
            }
        }
        swap(&codes, &next)
        rowScale = [Float](repeating: 1, count: k)
    }

    /// `‖A‖² - 2 Σ Y ⊙ ZᵀA + Σ ZᵀZ ⊙ YYᵀ`, in Double.
    func loss(_ total: Double) -> Double {
        var quadratic = 0.0
        for i in 0..<(k * k) { quadratic += Double(zz[i]) * Double(yy[i]) }
        return total - 2 * cross + quadratic
    }
}
