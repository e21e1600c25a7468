/// Vector arithmetic in Double for steering (means, norms, projections, PCA by power iteration).
enum SteeringMath {
    static func norm(_ v: [Float]) -> Double {
        var s = 0.0
        for x in v { s += Double(x) * Double(x) }
        return s.squareRoot()
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for i in 0..<min(a.count, b.count) { s += Double(a[i]) * Double(b[i]) }
        return s
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        let n = norm(a) * norm(b)
        return n > 0 ? dot(a, b) / n : 0
    }

    /// Mean of equal-width rows, in Double.
    static func mean(_ rows: [[Float]]) -> [Double] {
        guard let w = rows.first?.count else { return [] }
        var m = [Double](repeating: 0, count: w)
        for r in rows { for i in 0..<w { m[i] += Double(r[i]) } }
        return m.map { $0 / Double(rows.count) }
    }

    /// The first principal direction (unit) of `rows`, centered or not, by power iteration on
    /// `XᵀX` started from `start` (deterministic), plus the fraction of the (centered or raw)
    /// sum of squares it explains.
    static func firstPrincipalComponent(_ rows: [[Float]], centered: Bool, start: [Double],
                                        iterations: Int = 300) -> (vector: [Double], explained: Double) {
        let w = rows[0].count
        let center = centered ? mean(rows) : [Double](repeating: 0, count: w)
        let x = rows.map { r in (0..<w).map { Double(r[$0]) - center[$0] } }
        var v = start
        if v.allSatisfy({ $0 == 0 }) { v = [Double](repeating: 1, count: w) }
        func normalize(_ a: inout [Double]) {
            let n = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if n > 0 { for i in a.indices { a[i] /= n } }
        }
        normalize(&v)
        for _ in 0..<iterations {
            var next = [Double](repeating: 0, count: w)
            for r in x {
                var p = 0.0
                for i in 0..<w { p += r[i] * v[i] }
                for i in 0..<w { next[i] += p * r[i] }
            }
            normalize(&next)
            let change = zip(next, v).reduce(0) { $0 + abs($1.0 - $1.1) }
            v = next
            if change < 1e-12 { break }
        }
        var total = 0.0, along = 0.0
        for r in x {
            var p = 0.0
            for i in 0..<w { p += r[i] * v[i]; total += r[i] * r[i] }
            along += p * p
        }
        return (v, total > 0 ? along / total : 0)
    }
}
