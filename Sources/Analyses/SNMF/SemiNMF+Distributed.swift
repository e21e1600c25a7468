import Cluster
import Store

extension SemiNMF {
    /// Fits `rows` (every rank passes the same rows, e.g. one file on a shared disk) over the
    /// ranks of `communicator`: rank r streams only its block ``Shard/block(of:)`` of the rows
    /// and keeps its columns of Y; the sums over tokens of each pass (`Y X`, `Y Yᵀ`, `‖A‖²`,
    /// the loss's cross term, the norms of Y's rows, the SVD start's Gram matrix and signs)
    /// are all-reduced in Double, rank 0's singular vectors and loss are broadcast, so every
    /// rank takes the same steps and the result equals the one-process streamed fit up to the
    /// order of summation. The random start gives token t the values one process gives it.
    ///
    /// Returns the result on rank 0 (Y gathered from all ranks), nil on the others. With one
    /// rank this is ``fit(chunks:chunkRows:start:progress:)``.
    /// - Throws: on every rank: ``ClusterError/mismatch(_:)`` naming the ranks whose settings
    ///   or row count differ from rank 0's; ``SNMFError`` for more ranks than rows, the kmeans
    ///   start, or what the one-process fit refuses.
    public func fit(chunks rows: some SNMFChunks, communicator: Communicator, chunkRows: Int = 4096,
                    progress: ((Int, Double, Double) -> Void)? = nil) throws -> Result? {
        let (total, size, k) = (rows.tokens, communicator.size, config.rank)
        guard size > 1 else { return try fit(chunks: rows, chunkRows: chunkRows, progress: progress) }
        try communicator.agree(on: "\(config) tokens \(total) neurons \(rows.neurons) chunk rows \(chunkRows)",
                               what: "settings or rows (rank, sparsity, ridge, start, seed, iterations, tolerance, patience, chunk rows, tokens, neurons)")
        guard total >= size else {
            throw SNMFError.invalidSetting("\(size) MPI ranks but only \(total) rows in \(rows.source): every rank needs at least one row; run at most \(total) ranks")
        }
        try checkStreamed(tokens: total, neurons: rows.neurons, chunkRows: chunkRows)
        let blocks = try (0..<size).map { try Shard(index: $0, count: size).block(of: total) }
        let mine = blocks[communicator.rank]
        var state = try StreamState(rows: SNMFChunkBlock(base: rows, rows: mine), k: k, chunkRows: chunkRows,
                                    span: SNMFSpan(communicator: communicator, first: mine.lowerBound, total: total))
        var result = try fitStreamed(&state, start: nil, progress: progress)
        let parts = try communicator.gather(result.codes, to: 0)
        guard communicator.rank == 0 else { return nil }
        var codes = [Float](repeating: 0, count: k * total)
        for (block, part) in zip(blocks, parts) {
            let c = block.count
            for i in 0..<k { codes.replaceSubrange((i * total + block.lowerBound)..<(i * total + block.upperBound), with: part[(i * c)..<((i + 1) * c)]) }
        }
        (result.tokens, result.codes) = (total, codes)
        return result
    }
}
