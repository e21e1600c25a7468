import Linalg
import Store

/// Where training rows come from: batches of `[rows, d_in]` in a seeded shuffled order,
/// pass after pass (`epoch` reseeds the order). A transcoder's source pairs every input row
/// with its target row (``targetWidth`` not nil), shuffled and filtered together.
public protocol SAETrainingSource {
    /// Row width.
    var width: Int { get }
    /// The target rows' width, for a transcoder's paired source; nil for a plain SAE's.
    var targetWidth: Int? { get }
    /// The next batch of up to `rows` rows of the current pass, or nil when it is over.
    mutating func nextBatch(rows: Int) throws -> Tensor?
    /// The next batch with its target rows (nil for a plain source), or nil when the pass is over.
    mutating func nextPairedBatch(rows: Int) throws -> (input: Tensor, target: Tensor?)?
    /// Starts pass `epoch` (0 first) in a new seeded order.
    mutating func startPass(_ epoch: Int) throws
    /// Rows of one pass left out, by reason (`position 0`, `outlier`); empty for sources that filter nothing.
    var skipped: [String: Int] { get }
    /// What identifies the rows this source gives (file, hooks, sizes, seed): a checkpoint
    /// records it, and resuming with a source of another identity is refused by field.
    var identity: [String: String] { get }
    /// The source's position between two batches (``SAECheckpoint`` saves it).
    /// - Throws: ``SAEError/checkpoint(_:)`` for a source that cannot be checkpointed.
    func checkpointState() throws -> SAESourceState
    /// Continues from `state`, made by ``checkpointState()`` of a source of the same identity,
    /// so the next batches are the ones the saved source would have given.
    /// - Throws: ``SAEError/checkpoint(_:)`` for a state that does not fit the source.
    mutating func restore(_ state: SAESourceState) throws
}

extension SAETrainingSource {
    public var targetWidth: Int? { nil }
    public var identity: [String: String] { [:] }
    public func checkpointState() throws -> SAESourceState {
        throw SAEError.checkpoint("this training source (\(type(of: self))) cannot be checkpointed")
    }
    public mutating func restore(_ state: SAESourceState) throws {
        throw SAEError.checkpoint("this training source (\(type(of: self))) cannot resume from a checkpoint")
    }
    public mutating func nextPairedBatch(rows: Int) throws -> (input: Tensor, target: Tensor?)? {
        try nextBatch(rows: rows).map { ($0, nil) }
    }
}

/// An in-memory `[n, d]` matrix (tests, `--input X.npy`), its rows shuffled per pass, with
/// an optional `[n, d_out]` target matrix whose rows go along (a transcoder's).
public struct MatrixSource: SAETrainingSource {
    public let matrix: Tensor
    /// Row `i` is the target of `matrix` row `i`; nil: a plain SAE's source.
    public let target: Tensor?
    let seed: UInt64
    var order: [Int] = []
    var cursor = 0
    var epoch = 0
    public var width: Int { matrix.shape[1] }
    public var skipped: [String: Int] { [:] }
    public var targetWidth: Int? { target?.shape[1] }

    /// - Throws: ``SAEError`` unless `matrix` is `[n >= 1, d >= 1]` with finite values, and
    ///   `target` (when given) has as many rows, all finite.
    public init(_ matrix: Tensor, target: Tensor? = nil, seed: UInt64) throws {
        if let target {
            guard target.rank == 2, matrix.rank == 2, target.shape[0] == matrix.shape[0], target.shape[1] > 0 else {
                throw SAEError.widthMismatch(expected: matrix.shape.first ?? 0, found: target.shape.first ?? 0,
                                             what: "rows of the target matrix \(target.shape) for the input matrix \(matrix.shape)")
            }
            if let bad = target.scalars.firstIndex(where: { !$0.isFinite }) {
                throw SAEError.nonFinite(row: bad / target.shape[1], what: "target matrix")
            }
        }
        self.target = target
        guard matrix.rank == 2, matrix.shape[0] > 0, matrix.shape[1] > 0 else {
            throw SAEError.noRows("training matrix of shape \(matrix.shape) is not [rows >= 1, width >= 1]")
        }
        if let bad = matrix.scalars.firstIndex(where: { !$0.isFinite }) {
            throw SAEError.nonFinite(row: bad / matrix.shape[1], what: "training matrix")
        }
        self.matrix = matrix
        self.seed = seed
    }

    public mutating func startPass(_ epoch: Int) throws {
        var rng = SeededRandom(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        order = Array(0..<matrix.shape[0])
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        cursor = 0
        self.epoch = epoch
    }

    /// The matrix's shape, a fingerprint of its values (and the target's) and the seed.
    public var identity: [String: String] {
        ["source": "matrix", "shape": "\(matrix.shape)", "values": SAESourceState.fingerprint(matrix.scalars),
         "target": target.map { "\($0.shape) " + SAESourceState.fingerprint($0.scalars) } ?? "none", "seed": String(seed)]
    }

    /// The pass and the rows of its order taken.
    public func checkpointState() throws -> SAESourceState { SAESourceState(integers: ["epoch": epoch, "cursor": cursor]) }

    public mutating func restore(_ state: SAESourceState) throws {
        try startPass(state.integer("epoch"))
        let c = try state.integer("cursor")
        guard (0...order.count).contains(c) else { throw SAEError.checkpoint("the checkpoint's row cursor \(c) is outside 0...\(order.count)") }
        cursor = c
    }

    public mutating func nextBatch(rows: Int) throws -> Tensor? { try nextPairedBatch(rows: rows)?.input }

    public mutating func nextPairedBatch(rows: Int) throws -> (input: Tensor, target: Tensor?)? {
        let take = min(rows, order.count - cursor)
        guard take > 0 else { return nil }
        let picked = order[cursor..<(cursor + take)]
        cursor += take
        return (Self.gather(matrix, picked), target.map { Self.gather($0, picked) })
    }

    static func gather(_ m: Tensor, _ rows: ArraySlice<Int>) -> Tensor {
        let d = m.shape[1]
        var out = [Float](repeating: 0, count: rows.count * d)
        m.withUnsafeBufferPointer { src in
            for (r, i) in rows.enumerated() { for c in 0..<d { out[r * d + c] = src[i * d + c] } }
        }
        return Tensor(shape: [rows.count, d], scalars: out)
    }
}

/// One hook of a store capture, streamed by ``ActivationReader`` in seeded shuffled order
/// (memory bounded by the reader's window and the batch). Rows at position 0 (the attention
/// sink) are left out, and so are rows whose norm exceeds `outlierFactor` times the median
/// norm of the first reader batch of the first pass (the project's outlier rule, judged on a
/// sample so the capture is read once per pass); both are counted, over the first pass.
///
/// With a `targetHook` (a transcoder's), a second reader streams that hook of the same capture
/// in the same seeded order; every batch's rows are checked to be the same (prompt, position)
/// pairs, and the rows the input's rule leaves out are left out of the targets too.
public struct StoreSource: SAETrainingSource {
    let store: ActivationStore
    let capture: CaptureRecord
    public let hook: String
    /// The transcoder's target hook, or nil.
    public let targetHook: String?
    public let targetWidth: Int?
    var targetReader: ActivationReader?
    var pendingTarget: [Float] = []
    /// The model the capture was made with.
    public let modelName: String
    let seed: UInt64
    let outlierFactor: Float
    var reader: ActivationReader?
    /// Reader batches taken in this pass (a checkpoint's position: resuming reads them again).
    var batchesRead = 0
    let path: String
    var pending: [Float] = []
    var threshold: Float?
    var epoch = 0
    public private(set) var skipped: [String: Int] = ["position 0": 0, "outlier": 0]
    public let width: Int
    /// Rows the capture holds for the hook (before filtering).
    public let rowCount: Int

    /// - Throws: ``StoreError`` when the store, capture or hook is not there;
    ///   ``SAEError/noRows(_:)`` when the hook has no rows.
    ///   With `targetHook`: ``SAEError/noRows(_:)`` when the capture lacks it (or holds
    ///   different rows of it than of `hook`).
    public init(store path: String, capture id: Int64?, hook: String, targetHook: String? = nil, seed: UInt64,
                outlierFactor: Float = 10) throws {
        store = try ActivationStore(path: path)
        self.path = path
        let summary = try store.captureSummary(choosing: id)
        capture = try store.capture(id: summary.id)
        modelName = summary.model
        self.hook = hook
        self.seed = seed
        self.outlierFactor = outlierFactor
        let probe = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 1)
        guard probe.rowCount > 0, probe.width > 0 else { throw SAEError.noRows("capture \(summary.id) in \(path) has no rows of \(hook)") }
        width = probe.width
        rowCount = probe.rowCount
        self.targetHook = targetHook
        if let targetHook {
            let targets: ActivationReader
            do { targets = try ActivationReader(store: store, capture: capture, hook: targetHook, batchSize: 1) } catch {
                throw SAEError.noRows("capture \(summary.id) in \(path) has no rows of the target hook \(targetHook) (\(error)); "
                                      + "capture both hooks in one run: loupe capture --hooks \(hook),\(targetHook)")
            }
            guard targets.rowCount == rowCount, targets.width > 0 else {
                throw SAEError.noRows("capture \(summary.id) in \(path) holds \(targets.rowCount) rows of \(targetHook) but \(rowCount) of \(hook); "
                                      + "a transcoder needs both hooks captured at the same positions")
            }
            targetWidth = targets.width
        } else {
            targetWidth = nil
        }
    }

    public mutating func startPass(_ epoch: Int) throws {
        self.epoch = epoch
        reader = try ActivationReader(store: store, capture: capture, hook: hook, batchSize: 4096,
                                      order: .shuffled(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9))
        if let targetHook {
            targetReader = try ActivationReader(store: store, capture: capture, hook: targetHook, batchSize: 4096,
                                                order: .shuffled(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9))
        }
        pending.removeAll(keepingCapacity: true)
        pendingTarget.removeAll(keepingCapacity: true)
        batchesRead = 0
    }

    /// The store file, capture, hooks, row count, seed and outlier factor.
    public var identity: [String: String] {
        ["source": "store", "store": path, "capture": String(capture.id), "hook": hook, "target hook": targetHook ?? "none",
         "rows": String(rowCount), "seed": String(seed), "outlier factor": "\(outlierFactor)"]
    }

    /// The pass, the reader batches taken, the rows read but not yet given, the outlier
    /// threshold and the counts of rows left out.
    public func checkpointState() throws -> SAESourceState {
        var s = SAESourceState(integers: ["epoch": epoch, "batches read": batchesRead],
                               arrays: ["pending": pending, "pending target": pendingTarget])
        if let threshold { s.arrays["threshold"] = [threshold] }
        s.setSkipped(skipped)
        return s
    }

    /// Starts the saved pass and reads its first batches again (the shuffled order is fixed by
    /// the seed and the pass, so they are the same rows), then takes the saved pending rows.
    public mutating func restore(_ state: SAESourceState) throws {
        try startPass(state.integer("epoch"))
        let n = try state.integer("batches read")
        for i in 0..<n {
            guard try reader?.nextBatch() != nil else {
                throw SAEError.checkpoint("the checkpoint is \(n) reader batches into pass \(epoch), but \(path) gives only \(i)")
            }
            if targetHook != nil { _ = try targetReader?.nextBatch() }
        }
        batchesRead = n
        pending = state.array("pending")
        pendingTarget = state.array("pending target")
        guard pending.count % width == 0, pendingTarget.count == pending.count / width * (targetWidth ?? 0) else {
            throw SAEError.checkpoint("the checkpoint's pending rows (\(pending.count) and \(pendingTarget.count) values) do not fit width \(width)")
        }
        threshold = state.arrays["threshold"]?.first
        for (reason, count) in state.skipped() { skipped[reason] = count }
    }

    public mutating func nextBatch(rows: Int) throws -> Tensor? { try nextPairedBatch(rows: rows)?.input }

    public mutating func nextPairedBatch(rows: Int) throws -> (input: Tensor, target: Tensor?)? {
        let d = width, dOut = targetWidth ?? 0
        while pending.count < rows * d, let batch = try reader?.nextBatch() {
            batchesRead += 1
            var targets: ActivationBatch?
            if let targetHook {
                guard let t = try targetReader?.nextBatch(), t.positions == batch.positions, t.promptIndices == batch.promptIndices else {
                    throw SAEError.noRows("the rows of \(targetHook) do not pair with those of \(hook) in the store (a different prompt or "
                                          + "position in the same shuffled batch); capture both hooks in one run")
                }
                targets = t
            }
            let norms = (0..<batch.rows.shape[0]).map { r in
                batch.rows.withUnsafeBufferPointer { BLAS.norm(n: d, x: $0.baseAddress! + r * d) }
            }
            if threshold == nil {
                let kept = zip(norms, batch.positions).filter { $0.1 != 0 }.map(\.0).sorted()
                threshold = kept.isEmpty ? .infinity : outlierFactor * kept[kept.count / 2]
            }
            for r in 0..<batch.rows.shape[0] {
                if batch.positions[r] == 0 { if epoch == 0 { skipped["position 0", default: 0] += 1 }; continue }
                if norms[r] > threshold! || !norms[r].isFinite { if epoch == 0 { skipped["outlier", default: 0] += 1 }; continue }
                pending += batch.rows.scalars[(r * d)..<((r + 1) * d)]
                if let targets { pendingTarget += targets.rows.scalars[(r * dOut)..<((r + 1) * dOut)] }
            }
        }
        let take = min(rows, pending.count / d)
        guard take > 0 else { return nil }
        let out = Tensor(shape: [take, d], scalars: Array(pending[0..<(take * d)]))
        pending.removeFirst(take * d)
        guard targetHook != nil else { return (out, nil) }
        let target = Tensor(shape: [take, dOut], scalars: Array(pendingTarget[0..<(take * dOut)]))
        pendingTarget.removeFirst(take * dOut)
        return (out, target)
    }
}
