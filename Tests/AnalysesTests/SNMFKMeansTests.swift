import Analyses
import Foundation
import Linalg
import Testing

/// The k-means start: planted, well-separated clusters (centers known by construction).
struct SNMFKMeansTests {
    /// `n` rows, each a planted center (4 of them, Gaussian entries times 5, in d = 20) plus
    /// Gaussian noise of standard deviation 0.1; the cluster of each row and ‖noise‖².
    static func clusters(n: Int = 400, d: Int = 20, k: Int = 4, seed: UInt64 = 9) throws
        -> (rows: SNMFRows, centers: [[Float]], labels: [Int], noise: Double) {
        var rng = SeededRandom(seed: seed)
        let centers = (0..<k).map { _ in (0..<d).map { _ in 5 * rng.nextGaussian() } }
        var x: [Float] = [], labels: [Int] = [], noise = 0.0
        for _ in 0..<n {
            let c = Int(rng.next() % UInt64(k))
            labels.append(c)
            for j in 0..<d {
                let e = 0.1 * rng.nextGaussian()
                noise += Double(e) * Double(e)
                x.append(centers[c][j] + e)
            }
        }
        return (try SNMFRows(matrix: Tensor(shape: [n, d], scalars: x), source: "clusters"), centers, labels, noise)
    }

    @Test func kMeansRecoversPlantedCentersInMemoryAndStreamed() throws {
        let (rows, centers, labels, _) = try Self.clusters()
        let d = rows.neurons
        for chunkRows in [4096, 37] {
            let km = try SemiNMF.kMeans(rows, k: 4, seed: 1, chunkRows: chunkRows)
            #expect(km.converged && km.sizes.reduce(0, +) == rows.tokens)
            // Each planted center has a found center within 0.1 (the mean of ~100 rows of
            // noise 0.1 per entry is off by about 0.1·sqrt(20/100) ≈ 0.045 in norm).
            var used = Set<Int>()
            for center in centers {
                let distances = (0..<4).map { i in
                    zip(center, km.centers[(i * d)..<((i + 1) * d)]).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }.squareRoot()
                }
                let best = distances.indices.min { distances[$0] < distances[$1] }!
                #expect(distances[best] < 0.1, "planted center off by \(distances[best])")
                used.insert(best)
            }
            #expect(used.count == 4)
            // The clusters are the planted ones (same partition up to naming).
            var mapping: [Int: Int] = [:]
            for (found, planted) in zip(km.assignments, labels) {
                #expect(mapping[planted, default: found] == found)
                mapping[planted] = found
            }
        }
        #expect(throws: SNMFError.self) { try SemiNMF.kMeans(rows, k: 401, seed: 1) }
    }

    /// With Y = indicator + 0.2 and Z its least-squares fit, Z Y reproduces every cluster's
    /// mean, so the start's loss is the clusters' spread, at most ‖noise‖² (the spread about
    /// the planted centers); a random start is far above it.
    @Test func kMeansStartBeginsAtTheNoiseFloorFarBelowRandom() throws {
        let (rows, _, _, noise) = try Self.clusters()
        func fit(_ initialization: SemiNMF.Initialization) throws -> SemiNMF.Result {
            try SemiNMF(config: .init(rank: 4, sparsity: 0, initialization: initialization, seed: 2, iterations: 20,
                                      tolerance: 0, patience: 100)).fit(rows)
        }
        let kmeans = try fit(.kmeans), random = try fit(.random)
        #expect(kmeans.losses[0] <= noise * 1.001 + 1e-6 * kmeans.totalSquares, "start \(kmeans.losses[0]) vs noise \(noise)")
        #expect(random.losses[0] > 100 * noise, "random start \(random.losses[0]) vs noise \(noise)")
        #expect(kmeans.bestLoss <= noise * 1.001 + 1e-6 * kmeans.totalSquares)
        #expect(kmeans.codes.allSatisfy { $0 >= 0 })
        // The streamed fit starts from the same clusters.
        let streamed = try SemiNMF(config: kmeans.config).fit(chunks: rows, chunkRows: 37)
        #expect(abs(streamed.losses[0] - kmeans.losses[0]) <= 1e-5 * kmeans.totalSquares)
    }
}
