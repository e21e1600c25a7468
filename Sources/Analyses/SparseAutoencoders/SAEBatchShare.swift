import Cluster
import Linalg
import Store

/// One rank's part of a data-parallel SAE training step (``SAETrainer`` under MPI).
///
/// Every rank reads the same global batch of ``globalRows`` rows (same source, seed and
/// order), keeps the contiguous block ``rows`` of it (`Shard(index: rank, count: size)
/// .block(of: globalRows)`, as `snmf fit` splits tokens), and computes its block's loss and
/// gradient as one process would. ``combine(_:_:batch:)`` then weights each rank's row means by
/// its share of the batch and sums them over the ranks in Double, so every rank holds the
/// gradient of the whole batch's mean loss and takes the same optimizer step; BatchTopK's
/// selection sums its histograms over the ranks (``BatchTopKSelection``). What differs from
/// one process is only the order of summation.
public struct SAEBatchShare: @unchecked Sendable {
    /// The ranks of the job.
    public let communicator: Communicator
    /// Rows of the whole batch.
    public let globalRows: Int
    /// This rank's rows of the batch.
    public let rows: Range<Int>

    /// - Throws: ``SAEError/badSize(_:)`` when the batch has fewer rows than the job has ranks.
    public init(communicator: Communicator, globalRows: Int) throws {
        guard globalRows >= communicator.size else {
            throw SAEError.badSize("a batch of \(globalRows) rows cannot be split over \(communicator.size) MPI ranks: use --batch-size \(communicator.size) or more")
        }
        self.communicator = communicator
        self.globalRows = globalRows
        rows = try Shard(index: communicator.rank, count: communicator.size).block(of: globalRows)
    }

    /// This rank's rows of a whole batch `[globalRows, width]`.
    func slice(_ batch: Tensor) -> Tensor { batch.rows(rows) }

    /// Sums integer counts (histograms) over the ranks; exact below 2⁵³.
    func sum(_ counts: inout [Int]) throws {
        var wide = counts.map(Double.init)
        try communicator.allReduceSum(&wide)
        for i in counts.indices { counts[i] = Int(wide[i]) }
    }

    /// How many of this rank's `local` entries tied at a selection's cut it keeps, when `kept`
    /// tied entries are kept over the whole batch in row-major order (ranks hold consecutive
    /// blocks of rows, so lower ranks' ties come first).
    func tiesKept(local: Int, kept: Int) throws -> Int {
        var perRank = [Int](repeating: 0, count: communicator.size)
        perRank[communicator.rank] = local
        try sum(&perRank)
        let before = perRank[..<communicator.rank].reduce(0, +)
        return max(0, min(local, kept - before))
    }

    /// The smallest of every rank's `value` (nil where a rank has none; nil when none has one).
    func minimum(_ value: Float?) throws -> Float? {
        var m = [value.map(Double.init) ?? .infinity]
        try communicator.allReduceMin(&m)
        return m[0].isFinite ? Float(m[0]) : nil
    }

    /// The whole batch's statistics and gradient from this rank's (`stats`, `gradient`: row
    /// means over its ``rows``): each rank's means weighted by its rows' share of the batch and
    /// summed over the ranks in Double, counts summed; the total variance is `batch`'s own
    /// (every rank holds the whole batch, or its target rows for a transcoder).
    func combine(_ stats: SAEBatchStats, _ gradient: SAEParameters, batch: Tensor) throws -> (SAEBatchStats, SAEParameters) {
        let weight = Double(rows.count) / Double(globalRows)
        let arrays = [gradient.wEnc, gradient.wDec, gradient.bEnc, gradient.bDec, gradient.threshold, gradient.wSkip]
        let head = [stats.loss, stats.mse, stats.penalty, stats.l0].map { $0 * weight } + [stats.squaredError]
        var buffer = head + stats.fired.map(Double.init)
        buffer.reserveCapacity(buffer.count + arrays.reduce(0) { $0 + $1.count })
        for a in arrays { for v in a { buffer.append(Double(v) * weight) } }
        try communicator.allReduceSum(&buffer)
        var s = stats
        (s.rows, s.loss, s.mse, s.penalty, s.l0, s.squaredError) = (globalRows, buffer[0], buffer[1], buffer[2], buffer[3], buffer[4])
        let m = stats.fired.count
        s.fired = buffer[5..<(5 + m)].map { Int32($0) }
        s.totalVariance = batch.totalVarianceOfRows
        var g = gradient
        var at = 5 + m
        func take(_ a: [Float]) -> [Float] {
            defer { at += a.count }
            return buffer[at..<(at + a.count)].map { Float($0) }
        }
        (g.wEnc, g.wDec, g.bEnc, g.bDec, g.threshold, g.wSkip) = (take(arrays[0]), take(arrays[1]), take(arrays[2]),
                                                                   take(arrays[3]), take(arrays[4]), take(arrays[5]))
        return (s, g)
    }
}
