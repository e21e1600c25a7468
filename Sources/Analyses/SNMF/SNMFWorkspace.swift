import Linalg

/// The arrays one fit iterates on (row-major: `features` `[k, d]`, `codes` `[k, n]`).
struct SNMFWorkspace {
    let x: Tensor
    let n: Int, d: Int, k: Int
    var features: [Float]
    var codes: [Float]
    /// `ZᵀA` `[k, n]`, `ZᵀZ` `[k, k]`, `Y Yᵀ` `[k, k]`.
    var za: [Float], zz: [Float], yy: [Float]
    /// `(ZᵀZ)⁺ Y` and `(ZᵀZ)⁻ Y`, `[k, n]`.
    var plus: [Float], minus: [Float]

    init(x: Tensor, k: Int, features: [Float], codes: [Float]) {
        self.x = x
        (n, d, self.k) = (x.shape[0], x.shape[1], k)
        self.features = features
        self.codes = codes
        za = [Float](repeating: 0, count: k * n)
        zz = [Float](repeating: 0, count: k * k)
        yy = zz
        plus = za
        minus = za
    }

    /// `ZᵀA = Zᵀ Xᵀ` (from the nonzeros when Z is sparse enough) and `ZᵀZ`.
    mutating func multiplyZ() {
        let (n, d, k) = (n, d, k)
        let features = self.features
        za = x.withUnsafeBufferPointer { SemiNMF.featureProduct(features, k: k, d: d, x: $0, n: n) }
        zz = SemiNMF.gram(features, rows: k, width: d)
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

    /// Each row of Y to unit norm, its feature scaled by the old norm (ZY unchanged); a zero
    /// row is left alone.
    mutating func normalize() {
        SemiNMF.normalizeRows(codes: &codes, n: n, features: &features, width: d, k: k)
    }

    /// Ding et al.'s multiplicative update of Y from `ZᵀA` and `ZᵀZ`.
    mutating func updateCodes(epsilon: Float) {
        SemiNMF.dingUpdate(&codes, za: za, zz: zz, k: k, columns: n, epsilon: epsilon, plus: &plus, minus: &minus)
    }

    /// `‖A‖² - 2 Σ Y ⊙ ZᵀA + Σ ZᵀZ ⊙ YYᵀ`, in Double.
    func loss(_ total: Double) -> Double {
        var cross = 0.0, quadratic = 0.0
        codes.withUnsafeBufferPointer { y in
            za.withUnsafeBufferPointer { a in
                for i in 0..<(k * n) { cross += Double(y[i]) * Double(a[i]) }
            }
        }
        for i in 0..<(k * k) { quadratic += Double(zz[i]) * Double(yy[i]) }
        return total - 2 * cross + quadratic
    }
}
