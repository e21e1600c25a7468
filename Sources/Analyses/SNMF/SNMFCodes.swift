import Linalg

extension SNMFFile {
    /// The codes of new rows with the features held fixed: `Y >= 0` (`[k, t]`, a row per
    /// feature) lowering `‖A - Z Y‖²` for the rows `x` (`[t, d]`, a row per token) by the
    /// fit's own Y step, Ding et al.'s multiplicative update, run `iterations` times from
    /// `Y = max(ZᵀA / ‖z‖², 1e-3)` (each feature's least-squares code on its own, floored so
    /// the update can move it). Each update never raises the loss.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` when the rows are not `d` wide.
    public func codes(of x: [Float], rows t: Int, iterations: Int = 100, epsilon: Float = 1e-9) throws -> [Float] {
        let (k, d) = (features.count, neurons)
        guard t > 0 else { return [] }
        guard x.count == t * d else { throw SNMFError.invalidSetting("rows of \(x.count / max(t, 1)) values; the fit's features have \(d) neurons") }
        let z = features.flatMap { $0 }
        var zta = [Float](repeating: 0, count: k * t), ztz = [Float](repeating: 0, count: k * k)
        z.withUnsafeBufferPointer { zp in
            x.withUnsafeBufferPointer { xp in
                zta.withUnsafeMutableBufferPointer { c in BLAS.gemmTransposedB(m: k, n: t, k: d, a: zp.baseAddress!, b: xp.baseAddress!, c: c.baseAddress!) }
            }
            ztz.withUnsafeMutableBufferPointer { c in BLAS.gemmTransposedB(m: k, n: k, k: d, a: zp.baseAddress!, b: zp.baseAddress!, c: c.baseAddress!) }
        }
        var y = [Float](repeating: 0, count: k * t)
        for i in 0..<k {
            let norm = max(ztz[i * k + i], .leastNormalMagnitude)
            for j in 0..<t { y[i * t + j] = max(zta[i * t + j] / norm, 1e-3) }
        }
        let plus = ztz.map { max($0, 0) }, minus = ztz.map { max(-$0, 0) }
        var up = [Float](repeating: 0, count: k * t), down = up
        for _ in 0..<iterations {
            y.withUnsafeBufferPointer { yp in
                plus.withUnsafeBufferPointer { p in up.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: k, n: t, k: k, a: p.baseAddress!, b: yp.baseAddress!, c: c.baseAddress!) } }
                minus.withUnsafeBufferPointer { m in down.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: k, n: t, k: k, a: m.baseAddress!, b: yp.baseAddress!, c: c.baseAddress!) } }
            }
            // up = (ZᵀZ)⁺Y, down = (ZᵀZ)⁻Y
            for i in 0..<(k * t) {
                let a = zta[i]
                let numerator = max(a, 0) + down[i], denominator = max(-a, 0) + up[i] + epsilon
                y[i] *= (numerator / denominator).squareRoot()
            }
        }
        return y
    }
}

extension SNMFFile {
    /// A file holding only features (rows of `neurons` weights), for applying features made
    /// elsewhere; every other field is empty.
    public init(features: [[Float]], neurons: Int, hook: String? = nil) {
        source = "features"
        self.hook = hook
        tokens = 0
        self.neurons = neurons
        config = SemiNMF.Config(rank: features.count)
        bestIteration = 0
        converged = false
        losses = []
        relativeErrors = []
        self.features = features
    }
}
