import Cluster
import Store

extension SemiNMF {
    /// One rank's share of a fit over MPI ranks: the features, loss curve and settings every
    /// rank shares, and this rank's columns of Y.
    public struct RankResult: Sendable {
        /// The fit; its `codes` are this rank's columns ``block`` of Y (`[k, block.count]`) and
        /// its `tokens` is `block.count`.
        public var result: Result
        /// This rank's rows (tokens) among all ``total``.
        public var block: Range<Int>
        public var total: Int

        /// The result as a report of the whole fit sees it: `tokens` is ``total``, `codes` is
        /// empty (the report takes Y's top tokens from ``SNMFTopCodes/gathered(codes:rank:block:count:communicator:)``).
        public var whole: Result {
            var r = result
            (r.tokens, r.codes) = (total, [])
            return r
        }
    }

    /// Fits `rows` (every rank passes the same rows, e.g. one file on a shared disk) over the
    /// ranks of `communicator`: rank r streams only its block ``Shard/block(of:)`` of the rows
    /// and keeps its columns of Y; the sums over tokens of each pass (`Y X`, `Y Yᵀ`, `‖A‖²`,
    /// the loss's cross term, the norms of Y's rows, the SVD start's Gram matrix and signs)
    /// are all-reduced in Double, rank 0's singular vectors and loss are broadcast, so every
    /// rank takes the same steps and the result equals the one-process streamed fit up to the
    /// order of summation. The random start gives token t the values one process gives it.
    ///
    /// Returns every rank's share (its columns of Y): no rank gathers Y. Before the first
    /// pass each rank reads its block once when its rows were not checked when opened (an
    /// `.npy` stream) and the ranks agree on the outcome, so a bad row fails every rank.
    /// With one rank this is ``fit(chunks:chunkRows:start:progress:)``.
    /// - Throws: on every rank: ``ClusterError/mismatch(_:)`` naming the ranks whose settings
    ///   or row count differ from rank 0's; ``SNMFError`` for more ranks than rows, the kmeans
    ///   start, or what the one-process fit refuses; a bad row (on its rank; the others
    ///   ``ClusterError/failedElsewhere(rank:message:)``).
    public func fit(chunks rows: some SNMFChunks, communicator: Communicator, chunkRows: Int = 4096,
                    progress: ((Int, Double, Double) -> Void)? = nil) throws -> RankResult {
        let (total, size, k) = (rows.tokens, communicator.size, config.rank)
        guard size > 1 else {
            return RankResult(result: try fit(chunks: rows, chunkRows: chunkRows, progress: progress), block: 0..<total, total: total)
        }
        try communicator.agree(on: "\(config) tokens \(total) neurons \(rows.neurons) chunk rows \(chunkRows)",
                               what: "settings or rows (rank, sparsity, ridge, start, seed, iterations, tolerance, patience, chunk rows, tokens, neurons)")
        guard total >= size else {
            throw SNMFError.invalidSetting("\(size) MPI ranks but only \(total) rows in \(rows.source): every rank needs at least one row; run at most \(total) ranks")
        }
        try checkStreamed(tokens: total, neurons: rows.neurons, chunkRows: chunkRows)
        let mine = try Shard(index: communicator.rank, count: size).block(of: total)
        let block = SNMFChunkBlock(base: rows, rows: mine)
        try communicator.agreeOnErrors { try block.check(chunkRows: chunkRows) }
        var state = try StreamState(rows: block, k: k, chunkRows: chunkRows,
                                    span: SNMFSpan(communicator: communicator, first: mine.lowerBound, total: total))
        return RankResult(result: try fitStreamed(&state, start: nil, progress: progress), block: mine, total: total)
    }
}
