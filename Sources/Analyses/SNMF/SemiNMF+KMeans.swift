import Linalg

extension SemiNMF {
    /// k-means of token rows: the clustering behind the `kmeans` start.
    public struct KMeans: Sendable {
        /// `[k, d]` row-major, a center per cluster.
        public var centers: [Float]
        /// Per row (token), its cluster.
        public var assignments: [Int]
        /// Rows per cluster.
        public var sizes: [Int]
        /// Sum of squared distances of the rows to their centers (the last assignment's).
        public var inertia: Double
        /// Lloyd iterations run.
        public var iterations: Int
        /// Whether an iteration changed no assignment (else the cap stopped it).
        public var converged: Bool
    }

    /// Ding, Li & Jordan's k-means start: `Y = H + 0.2`, where `H` (`[k, n]`) is the
    /// cluster indicator (1 where token j is in cluster i), and the 0.2 keeps every code
    /// positive so the multiplicative update can still move it.
    public static func kMeansCodes(_ clusters: KMeans, k: Int) -> [Float] {
        let n = clusters.assignments.count
        var codes = [Float](repeating: 0.2, count: k * n)
        for (j, c) in clusters.assignments.enumerated() { codes[c * n + j] += 1 }
        return codes
    }

    /// k-means of `rows` into `k` clusters: k-means++ seeding (Arthur & Vassilvitskii 2007;
    /// the first center a uniform row, each next a row drawn with probability proportional to
    /// its squared distance to the nearest center so far, from `SeededRandom(seed)`), then
    /// Lloyd's iterations (assign each row to its nearest center; move each center to the
    /// mean of its rows; a cluster left empty keeps its center) until no assignment changes
    /// or `iterations` have run. Works a chunk at a time, so streamed rows need not fit in
    /// memory: 2 passes per seed and one per iteration.
    /// - Throws: ``SNMFError`` when `k` is not in `1...n`, or what reading the rows throws.
    public static func kMeans(_ rows: some SNMFChunks, k: Int, seed: UInt64, iterations: Int = 50,
                              chunkRows: Int = 4096) throws -> KMeans {
        let (n, d) = (rows.tokens, rows.neurons)
        guard k >= 1, k <= n else { throw SNMFError.rankOutOfRange(rank: k, tokens: n, neurons: d) }
        let step = max(1, chunkRows)
        var rng = SeededRandom(seed: seed)
        var squares = [Double](repeating: 0, count: n)
        try rows.forEachChunk(rows: step) { first, chunk in
            chunk.withUnsafeBufferPointer { x in
                for r in 0..<chunk.shape[0] {
                    var s = 0.0
                    for j in 0..<d { s += Double(x[r * d + j]) * Double(x[r * d + j]) }
                    squares[first + r] = s
                }
            }
        }
        func row(_ index: Int) throws -> [Float] {
            var found: [Float] = []
            try rows.forEachChunk(rows: step) { first, chunk in
                guard index >= first, index < first + chunk.shape[0] else { return }
                found = Array(chunk.scalars[((index - first) * d)..<((index - first + 1) * d)])
            }
            return found
        }
        // k-means++ seeding.
        var centers = try row(min(n - 1, Int(Double(rng.nextUniform()) * Double(n))))
        var nearest = [Double](repeating: .infinity, count: n)
        for i in 1...k {
            let center = Array(centers[((i - 1) * d)..<(i * d)])
            let centerSquares = center.reduce(0.0) { $0 + Double($1) * Double($1) }
            try rows.forEachChunk(rows: step) { first, chunk in
                let c = chunk.shape[0]
                var dots = [Float](repeating: 0, count: c)
                chunk.withUnsafeBufferPointer { x in
                    center.withUnsafeBufferPointer { z in
                        dots.withUnsafeMutableBufferPointer { y in BLAS.gemv(n: c, k: d, w: x.baseAddress!, x: z.baseAddress!, y: y.baseAddress!) }
                    }
                }
                for r in 0..<c {
                    let distance = max(0, squares[first + r] - 2 * Double(dots[r]) + centerSquares)
                    nearest[first + r] = min(nearest[first + r], distance)
                }
            }
            guard i < k else { break }
            let total = nearest.reduce(0, +)
            var next = 0
            if total > 0 {
                let target = Double(rng.nextUniform()) * total
                var sum = 0.0
                next = n - 1
                for j in 0..<n where nearest[j] > 0 {
                    sum += nearest[j]
                    if sum > target { next = j; break }
                }
            } else {
                next = min(n - 1, Int(Double(rng.nextUniform()) * Double(n)))  // every row is a center already
            }
            centers += try row(next)
        }
        // Lloyd's iterations.
        var assignments = [Int](repeating: -1, count: n)
        var sizes = [Int](repeating: 0, count: k)
        var inertia = 0.0, run = 0, converged = false
        while run < iterations {
            run += 1
            var sums = [Double](repeating: 0, count: k * d)
            sizes = [Int](repeating: 0, count: k)
            inertia = 0
            var changed = 0
            let centerSquares = (0..<k).map { i in centers[(i * d)..<((i + 1) * d)].reduce(0.0) { $0 + Double($1) * Double($1) } }
            try rows.forEachChunk(rows: step) { first, chunk in
                let c = chunk.shape[0]
                var dots = [Float](repeating: 0, count: c * k)
                chunk.withUnsafeBufferPointer { x in
                    centers.withUnsafeBufferPointer { z in
                        dots.withUnsafeMutableBufferPointer { g in
                            BLAS.gemmTransposedB(m: c, n: k, k: d, a: x.baseAddress!, b: z.baseAddress!, c: g.baseAddress!)
                        }
                    }
                    for r in 0..<c {
                        var best = 0, bestDistance = Double.infinity
                        for i in 0..<k {
                            let distance = squares[first + r] - 2 * Double(dots[r * k + i]) + centerSquares[i]
                            if distance < bestDistance { (best, bestDistance) = (i, distance) }
                        }
                        if assignments[first + r] != best { changed += 1; assignments[first + r] = best }
                        sizes[best] += 1
                        inertia += max(0, bestDistance)
                        for j in 0..<d { sums[best * d + j] += Double(x[r * d + j]) }
                    }
                }
            }
            for i in 0..<k where sizes[i] > 0 {
                for j in 0..<d { centers[i * d + j] = Float(sums[i * d + j] / Double(sizes[i])) }
            }
            if changed == 0 { converged = true; break }
        }
        return KMeans(centers: centers, assignments: assignments, sizes: sizes, inertia: inertia, iterations: run, converged: converged)
    }
}
