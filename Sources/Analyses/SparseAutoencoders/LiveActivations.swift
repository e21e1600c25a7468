import Foundation
import Linalg
import Models
import Store

/// Activations made on demand by the model's forward pass over token windows (corpus
/// windows), nothing written to disk: how EleutherAI's sparsify trains. Each *channel* is an
/// input hook with an optional target hook (a transcoder's pair); one forward pass over
/// `windowsPerPass` windows feeds every channel, so many SAEs train from the same passes.
///
/// Per channel the rows go into a shuffle buffer of `bufferRows` rows (at most one pass's rows
/// more); a batch is drawn at random from the buffer (seeded) after it is filled, and the
/// windows themselves run in a seeded shuffled order per pass. The filter is the store
/// source's (``StoreSource``): position 0 (the attention sink) is left out, and so are rows whose
/// input norm exceeds `outlierFactor` times the median norm of the channel's rows in the first
/// forward pass; both are counted over the first pass.
public struct LiveActivations {
    /// One channel: what it reads, and what a transcoder reconstructs (nil: a plain SAE).
    public struct Channel: Sendable, Equatable {
        public var input: HookPoint
        public var target: HookPoint?
        public init(input: HookPoint, target: HookPoint? = nil) {
            self.input = input
            self.target = target
        }
    }

    /// A channel's rows waiting to be drawn, `[count, width]` (and `[count, targetWidth]`).
    struct Buffer {
        var input: [Float] = []
        var target: [Float] = []
        var count = 0
    }

    public let model: Transformer
    public let windows: [[Int]]
    public let channels: [Channel]
    /// Row widths per channel (input, target).
    public let widths: [Int]
    public let targetWidths: [Int?]
    public let bufferRows: Int
    public let windowsPerPass: Int
    public let outlierFactor: Float
    let seed: UInt64
    var order: [Int] = []
    var cursor = 0
    var epoch = 0
    var buffers: [Buffer]
    /// Per channel, the outlier rule's norm threshold (set by the first forward pass).
    public private(set) var thresholds: [Float?]
    var rng: SeededRandom
    /// Per channel, rows left out over the first pass, by reason (`position 0`, `outlier`).
    public private(set) var skipped: [[String: Int]]
    /// Seconds in forward passes, and the tokens they ran.
    public private(set) var forwardSeconds = 0.0
    public private(set) var forwardTokens = 0

    /// - Parameters:
    ///   - windows: token ids of each window (e.g. ``CorpusWindows``' windows), each at most the model's context.
    ///   - channels: hooks to read; each input and target must be a row activation of the model.
    /// - Throws: ``SAEError/noRows(_:)`` for no windows or an empty one; ``SAEError/badSize(_:)``
    ///   for a window longer than the model's context, no channels or a non-positive size;
    ///   ``Models/ModelError`` for a hook the model lacks.
    public init(model: Transformer, windows: [[Int]], channels: [Channel], bufferRows: Int = 16384, windowsPerPass: Int = 8,
                seed: UInt64 = 0, outlierFactor: Float = 10) throws {
        guard !windows.isEmpty else { throw SAEError.noRows("no token windows to run (is the corpus empty, or --max-tokens 0?)") }
        if let i = windows.firstIndex(where: \.isEmpty) { throw SAEError.noRows("window \(i) has no tokens") }
        if let i = windows.firstIndex(where: { $0.count > model.config.contextLength }) {
            throw SAEError.badSize("window \(i) has \(windows[i].count) tokens, more than the model's context of \(model.config.contextLength)")
        }
        guard !channels.isEmpty else { throw SAEError.badSize("no hooks to read") }
        guard bufferRows > 0, windowsPerPass > 0 else {
            throw SAEError.badSize("buffer rows \(bufferRows) and windows per forward pass \(windowsPerPass) must be positive")
        }
        guard outlierFactor > 0 else { throw SAEError.badSize("outlier factor \(outlierFactor) must be positive") }
        widths = try channels.map { try SAEEvaluation.hookWidth($0.input, config: model.config) }
        targetWidths = try channels.map { try $0.target.map { try SAEEvaluation.hookWidth($0, config: model.config) } }
        self.model = model
        self.windows = windows
        self.channels = channels
        self.bufferRows = bufferRows
        self.windowsPerPass = windowsPerPass
        self.seed = seed
        self.outlierFactor = outlierFactor
        buffers = channels.map { _ in Buffer() }
        thresholds = channels.map { _ in nil }
        skipped = channels.map { _ in ["position 0": 0, "outlier": 0] }
        rng = SeededRandom(seed: seed)
        startPass(0)
    }

    /// Rows a pass gives each channel before the outlier rule: every window's tokens but position 0.
    public var rowsPerPass: Int { windows.reduce(0) { $0 + max($1.count - 1, 0) } }

    /// Starts pass `epoch` (0 first): the windows in a new seeded order, the buffers emptied.
    public mutating func startPass(_ epoch: Int) {
        self.epoch = epoch
        var r = SeededRandom(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        order = Array(windows.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(r.next() % UInt64(i + 1))) }
        cursor = 0
        rng = SeededRandom(seed: seed &+ 0x5851_F42D &+ UInt64(epoch))
        for c in buffers.indices { buffers[c] = Buffer() }
    }

    /// The model, windows (a fingerprint of their tokens), hooks, buffer and pass sizes, seed
    /// and outlier factor: a checkpoint's identity of this source.
    public var identity: [String: String] {
        ["source": "live", "model": model.config.name, "windows": "\(windows.count) (\(SAESourceState.fingerprint(windows)))",
         "hooks": channels.map { $0.input.name + ($0.target.map { " -> " + $0.name } ?? "") }.joined(separator: ", "),
         "buffer rows": String(bufferRows), "windows per pass": String(windowsPerPass), "seed": String(seed),
         "outlier factor": "\(outlierFactor)"]
    }

    /// The pass, the windows run, the draw generator's state, and per channel the buffered
    /// rows, the outlier threshold and the counts left out (`c<i>.` keys).
    public func checkpointState() -> SAESourceState {
        var s = SAESourceState(integers: ["epoch": epoch, "cursor": cursor, "rng": Int(bitPattern: UInt(rng.state))])
        for c in channels.indices {
            s.integers["c\(c).count"] = buffers[c].count
            s.arrays["c\(c).input"] = buffers[c].input
            s.arrays["c\(c).target"] = buffers[c].target
            if let t = thresholds[c] { s.arrays["c\(c).threshold"] = [t] }
            s.setSkipped(skipped[c], prefix: "c\(c).skipped.")
        }
        return s
    }

    /// Continues from a state of ``checkpointState()``: the pass's window order is rebuilt from
    /// the seed, the buffers and the generator taken as saved, so no forward pass is repeated.
    /// - Throws: ``SAEError/checkpoint(_:)`` when a value does not fit these windows and widths.
    public mutating func restore(_ state: SAESourceState) throws {
        startPass(try state.integer("epoch"))
        let c0 = try state.integer("cursor")
        guard (0...order.count).contains(c0) else { throw SAEError.checkpoint("the checkpoint's window cursor \(c0) is outside 0...\(order.count)") }
        cursor = c0
        rng = SeededRandom(seed: UInt64(UInt(bitPattern: try state.integer("rng"))))
        for c in channels.indices {
            let b = Buffer(input: state.array("c\(c).input"), target: state.array("c\(c).target"), count: try state.integer("c\(c).count"))
            guard b.input.count == b.count * widths[c], b.target.count == b.count * (targetWidths[c] ?? 0) else {
                throw SAEError.checkpoint("the checkpoint's buffer of channel \(c) holds \(b.input.count) values for \(b.count) rows of width \(widths[c])")
            }
            buffers[c] = b
            thresholds[c] = state.arrays["c\(c).threshold"]?.first
            for (reason, n) in state.skipped(prefix: "c\(c).skipped.") { skipped[c][reason] = n }
        }
    }

    /// The next batch of up to `rows` rows of channel `c` (with its target rows), drawn at
    /// random from the channel's buffer after topping it up; nil when the pass is over.
    /// - Throws: ``Models/ModelError`` from the pass.
    public mutating func nextBatch(channel c: Int, rows: Int) throws -> (input: Tensor, target: Tensor?)? {
        while buffers[c].count < bufferRows, try runNextWindows() {}
        let take = min(rows, buffers[c].count)
        guard take > 0 else { return nil }
        let d = widths[c], dOut = targetWidths[c] ?? 0
        var x = [Float](repeating: 0, count: take * d), y = [Float](repeating: 0, count: take * dOut)
        var b = buffers[c]
        buffers[c] = Buffer()   // unique while drawing: no copy on write
        for r in 0..<take {
            let i = Int(rng.next() % UInt64(b.count)), last = b.count - 1
            for j in 0..<d { x[r * d + j] = b.input[i * d + j]; b.input[i * d + j] = b.input[last * d + j] }
            for j in 0..<dOut { y[r * dOut + j] = b.target[i * dOut + j]; b.target[i * dOut + j] = b.target[last * dOut + j] }
            b.count -= 1
        }
        b.input.removeLast(take * d)
        b.target.removeLast(take * dOut)
        buffers[c] = b
        return (Tensor(shape: [take, d], scalars: x), targetWidths[c].map { Tensor(shape: [take, $0], scalars: y) })
    }

    /// Up to `limit` rows of channel `c`'s buffer as they stand (nothing drawn), with targets.
    public func bufferedRows(channel c: Int, limit: Int) -> (input: Tensor, target: Tensor?) {
        let n = min(limit, buffers[c].count), d = widths[c]
        return (Tensor(shape: [n, d], scalars: Array(buffers[c].input[0..<(n * d)])),
                targetWidths[c].map { Tensor(shape: [n, $0], scalars: Array(buffers[c].target[0..<(n * $0)])) })
    }

    /// Runs the next `windowsPerPass` windows of the pass and fills every channel's buffer;
    /// false when the pass has no windows left.
    mutating func runNextWindows() throws -> Bool {
        guard cursor < order.count else { return false }
        let picked = order[cursor..<min(order.count, cursor + windowsPerPass)].map { windows[$0] }
        cursor += picked.count
        let rows = try run(picked)
        for c in channels.indices { keep(rows[c], channel: c) }
        return true
    }

    /// One forward pass over `sequences`: per channel, per sequence, the input and target
    /// activations `[positions, width]` (all positions; nothing filtered).
    public mutating func run(_ sequences: [[Int]]) throws -> [[(input: Tensor, target: Tensor?)]] {
        let points = Array(Set(channels.flatMap { [$0.input] + ($0.target.map { [$0] } ?? []) })).sorted()
        let sink = Sink(sequences: sequences.count, points: points.count)
        var hooks = HookSet()
        for (h, point) in points.enumerated() {
            hooks.observe(point) { act, ctx in sink.slots[ctx.sequence][h] = act }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        switch Capturer.stopPoint(points, layers: model.config.nLayers) {
        case .residPost(let layer)?: try model.forward(sequences, hooks: hooks, through: layer)
        case .residPre(0)?: try model.forward(sequences, hooks: hooks, through: -1)
        default: _ = try model.forward(sequences, hooks: hooks, logits: .none)
        }
        forwardSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        forwardTokens += sequences.reduce(0) { $0 + $1.count }
        func rows(_ point: HookPoint, _ s: Int) -> Tensor {
            let t = sink.slots[s][points.firstIndex(of: point)!]!
            return t.rank == 2 ? t : Tensor(shape: [t.shape[0], t.count / max(t.shape[0], 1)], scalars: t.scalars)
        }
        return channels.map { ch in sequences.indices.map { s in (rows(ch.input, s), ch.target.map { rows($0, s) }) } }
    }

    /// Appends a forward pass's rows of channel `c` to its buffer, leaving out position 0 and
    /// outliers (the threshold set on the first pass's first batch).
    mutating func keep(_ sequences: [(input: Tensor, target: Tensor?)], channel c: Int) {
        let d = widths[c], dOut = targetWidths[c] ?? 0
        let norms = sequences.map { s in
            s.input.withUnsafeBufferPointer { p in (0..<s.input.shape[0]).map { BLAS.norm(n: d, x: p.baseAddress! + $0 * d) } }
        }
        if thresholds[c] == nil {
            let kept = norms.flatMap { $0.dropFirst() }.filter(\.isFinite).sorted()
            thresholds[c] = kept.isEmpty ? .infinity : outlierFactor * kept[kept.count / 2]
        }
        let threshold = thresholds[c]!
        for (s, seq) in sequences.enumerated() {
            for p in 0..<seq.input.shape[0] {
                if p == 0 { if epoch == 0 { skipped[c]["position 0", default: 0] += 1 }; continue }
                if !(norms[s][p] <= threshold) { if epoch == 0 { skipped[c]["outlier", default: 0] += 1 }; continue }
                buffers[c].input += seq.input.scalars[(p * d)..<((p + 1) * d)]
                if let t = seq.target { buffers[c].target += t.scalars[(p * dOut)..<((p + 1) * dOut)] }
                buffers[c].count += 1
            }
        }
    }

    /// Where a pass's hooks leave each sequence's activations.
    final class Sink: @unchecked Sendable {
        var slots: [[Tensor?]]
        init(sequences: Int, points: Int) { slots = Array(repeating: Array(repeating: nil, count: points), count: sequences) }
    }
}
