import Analyses
import Cluster
import Linalg
import Store
import Testing

/// The rows each MPI rank fits (`Shard.block(of:)`) and the one-process form of the
/// distributed fit; the fit across processes itself is run by `SNMFMPITests` under mpirun.
struct SNMFRankBlockTests {
    @Test func blocksAreContiguousBalancedAndCoverEveryRowOnce() throws {
        for count in 1...7 {
            for total in [0, 1, 2, 5, 13, 100, 20_001] {
                let blocks = try (0..<count).map { try Shard(index: $0, count: count).block(of: total) }
                #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == total)
                for (a, b) in zip(blocks, blocks.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                let sizes = blocks.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1, "\(count) ranks, \(total) rows: \(sizes)")
                // The documented rule, by hand: rank r owns r·n/N ..< (r+1)·n/N.
                for (r, block) in blocks.enumerated() { #expect(block == (r * total / count)..<((r + 1) * total / count)) }
            }
        }
        // 3 ranks, 10 rows: 0..<3, 3..<6, 6..<10.
        #expect(try (0..<3).map { try Shard(index: $0, count: 3).block(of: 10) } == [0..<3, 3..<6, 6..<10])
    }

    @Test func theOneProcessCommunicatorGivesTheStreamedFit() throws {
        let rows = try SNMFTests.gaussianRows(n: 120, d: 16, seed: 3)
        let config = SemiNMF.Config(rank: 3, sparsity: 0, initialization: .random, seed: 2, iterations: 8, tolerance: 0, patience: 100)
        let streamed = try SemiNMF(config: config).fit(chunks: rows, chunkRows: 25)
        let single = try SemiNMF(config: config).fit(chunks: rows, communicator: .single, chunkRows: 25).result
        #expect(single.losses == streamed.losses && single.features == streamed.features && single.codes == streamed.codes)
        #expect(Communicator.single.rank == 0 && Communicator.single.size == 1)
        #expect(!Communicator.launchedByMPI([:]) && Communicator.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2"]))
        var sums: [Double] = [1, 2]
        try Communicator.single.allReduceSum(&sums)
        #expect(sums == [1, 2])
        #expect(try Communicator.single.gather([Float]([4, 5])) == [[4, 5]])
    }
}
