import Linalg

/// The steps every semi-NMF fit shares (in memory, streamed, hierarchy), in one place.
extension SemiNMF {
    /// `Σ c·a·b` over `terms`, or nil on overflow (the memory formulas).
    static func checkedBytes(_ terms: [(Int, Int, Int)]) -> Int? {
        var total = 0
        for (c, a, b) in terms {
            let (ab, o1) = a.multipliedReportingOverflow(by: b)
            let (cab, o2) = ab.multipliedReportingOverflow(by: c)
            let (sum, o3) = total.addingReportingOverflow(cab)
            if o1 || o2 || o3 { return nil }
            total = sum
        }
        return total
    }

    /// Solves `(S + ridge·I) W = B` for symmetric `s` `[k, k]` and `b` `[k, cols]` by a Cholesky
    /// solve in Double (never an inverse).
    /// - Throws: ``SNMFError/singularSystem(_:)`` naming `what` when it cannot be factored.
    static func ridgeSolve(_ s: [Float], _ b: [Float], k: Int, cols: Int, ridge: Double, what: String) throws -> [Float] {
        var system = s.map(Double.init)
        for i in 0..<k { system[i * k + i] += ridge }
        do {
            return try LAPACK.choleskySolve(system, b.map(Double.init), n: k, rightHandSides: cols).map { Float($0) }
        } catch let error as LinalgError {
            throw SNMFError.singularSystem("\(what) + \(ridge)·I (k = \(k)) cannot be factored: \(error); raise the ridge")
        }
    }

    /// Each row of `codes` (`[k, n]`) to unit norm and the same row of `features` (`[k, width]`)
    /// scaled by the old norm, so their product is unchanged; a zero row is left alone.
    static func normalizeRows(codes: inout [Float], n: Int, features: inout [Float], width: Int, k: Int) {
        for i in 0..<k {
            let norm = codes.withUnsafeBufferPointer { BLAS.norm(n: n, x: $0.baseAddress! + i * n) }
            guard norm > 0, norm.isFinite else { continue }
            for j in 0..<n { codes[i * n + j] /= norm }
            for j in 0..<width { features[i * width + j] *= norm }
        }
    }

    /// Columns of Y updated together: their `2k` scratch sums (k = 100: 200 KB) stay in cache
    /// between the products and the update, and the cross term is summed per block in a fixed
    /// order, so it does not depend on the thread count.
    static let updateBlock = 256

    /// Below this fraction of nonzero entries in `ZᵀZ`, the update's products `(ZᵀZ)± Y` are
    /// sums of scaled rows of Y over the nonzeros: the features of a sparse Z rarely share
    /// neurons, so `ZᵀZ` is nearly diagonal.
    static let sparseGramDensity = 0.25

    /// Ding et al.'s multiplicative update of codes `y` (`[k, c]`) from `ZᵀA` (`[k, c]`) and
    /// `ZᵀZ` (`[k, k]`), written to `out` (which may be `y`):
    /// `out = S Y ⊙ sqrt(((ZᵀA)⁺ + (ZᵀZ)⁻ S Y) / ((ZᵀA)⁻ + (ZᵀZ)⁺ S Y + ε))`, where the diagonal
    /// S holds `scale` (row i of Y multiplied by `scale[i]` first; nil: 1), so normalizing Y's
    /// rows costs no pass of its own. Returns the cross term `Σ out ⊙ ZᵀA` in Double.
    /// Works through blocks of ``updateBlock`` columns, in parallel when `ZᵀZ` is sparse.
    static func dingUpdate(_ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, za: UnsafePointer<Float>,
                           zz: [Float], scale: [Float]?, k: Int, columns c: Int, epsilon: Float) -> Double {
        let s = scale ?? [Float](repeating: 1, count: k)
        var pos = [Float](repeating: 0, count: k * k), neg = pos
        for i in 0..<k {
            for j in 0..<k {
                let v = zz[i * k + j]
                (pos[i * k + j], neg[i * k + j]) = ((abs(v) + v) / 2 * s[j], (abs(v) - v) / 2 * s[j])
            }
        }
        let width = updateBlock, blocks = (c + width - 1) / width
        var partial = [Double](repeating: 0, count: blocks)
        let nonzero = zz.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        partial.withUnsafeMutableBufferPointer { partial in
            nonisolated(unsafe) let (y, out, za, partial) = (y, out, za, partial)
            let step = DingBlockStep(y: y, out: out, za: za, scale: s, k: k, columns: c, epsilon: epsilon)
            if Double(nonzero) <= sparseGramDensity * Double(k * k) {
                let (p, m) = (SparseSquare(pos, k: k), SparseSquare(neg, k: k))
                parallelChunks(blocks) { range in
                    var plus = [Float](repeating: 0, count: k * width), minus = plus
                    for b in range {
                        let (t0, w) = (b * width, min(width, c - b * width))
                        plus.withUnsafeMutableBufferPointer { p.multiply(y + t0, stride: c, columns: w, into: $0.baseAddress!) }
                        minus.withUnsafeMutableBufferPointer { m.multiply(y + t0, stride: c, columns: w, into: $0.baseAddress!) }
                        partial[b] = step.run(first: t0, width: w, plus: plus, minus: minus)
                    }
                }
            } else {
                // Dense: sgemm per block (threaded by BLAS itself), so the blocks run in turn.
                var plus = [Float](repeating: 0, count: k * width), minus = plus
                for b in 0..<blocks {
                    let (t0, w) = (b * width, min(width, c - b * width))
                    pos.withUnsafeBufferPointer { a in neg.withUnsafeBufferPointer { n in
                        plus.withUnsafeMutableBufferPointer { p in minus.withUnsafeMutableBufferPointer { m in
                            BLAS.gemm(m: k, n: w, k: k, a: a.baseAddress!, b: y + t0, ldb: c, c: p.baseAddress!, ldc: w)
                            BLAS.gemm(m: k, n: w, k: k, a: n.baseAddress!, b: y + t0, ldb: c, c: m.baseAddress!, ldc: w)
                        } }
                    } }
                    partial[b] = step.run(first: t0, width: w, plus: plus, minus: minus)
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// ``dingUpdate(_:into:za:zz:scale:k:columns:epsilon:)`` in place on an array.
    @discardableResult
    static func dingUpdate(_ y: inout [Float], za: [Float], zz: [Float], k: Int, columns c: Int, epsilon: Float) -> Double {
        y.withUnsafeMutableBufferPointer { yp in
            za.withUnsafeBufferPointer { a in
                dingUpdate(yp.baseAddress!, into: yp.baseAddress!, za: a.baseAddress!, zz: zz, scale: nil, k: k, columns: c, epsilon: epsilon)
            }
        }
    }
}

/// A `[k, k]` matrix by its nonzero entries, row by row (``SemiNMF/dingUpdate(_:into:za:zz:scale:k:columns:epsilon:)``).
struct SparseSquare {
    let k: Int
    var starts: [Int] = [0], columns: [Int] = [], values: [Float] = []

    init(_ m: [Float], k: Int) {
        self.k = k
        for i in 0..<k {
            for j in 0..<k where m[i * k + j] != 0 { columns.append(j); values.append(m[i * k + j]) }
            starts.append(columns.count)
        }
    }

    /// `out` (`[k, w]`) = this matrix times the `[k, w]` block of rows `y`, `y + stride`, ...
    func multiply(_ y: UnsafePointer<Float>, stride: Int, columns w: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: k * w)
        for i in 0..<k {
            for e in starts[i]..<starts[i + 1] {
                Kernels.addScaled(values[e], y + columns[e] * stride, to: out + i * w, count: w)
            }
        }
    }
}
