import Foundation
import Linalg
import Models

/// Runs prompts through a model in batches and writes the activations of chosen hook points
/// into a store, one transaction per batch, skipping prompts the capture already holds.
///
/// Several capturers (processes) on one store share the work: each claims a batch before
/// computing it (``ActivationStore/claim(_:capture:owner:lease:)``), skips batches another
/// live capturer holds, and comes back to them at the end, waiting until they are committed
/// or taking them over when their claim's process is gone or its lease has passed. Every
/// prompt is computed once, and the store equals one capturer's bit for bit.
///
/// The hooks encode each kept row into the store's dtype as the pass produces it (no float32
/// copy of the whole batch is kept), and writing a batch is one transaction of prepared inserts.
public struct Capturer {
    public let model: Transformer
    public let store: ActivationStore
    public let capture: CaptureRecord
    /// Most prompts per forward pass.
    public var batchSize: Int
    /// Most tokens per forward pass (a longer prompt runs alone).
    public var batchTokens: Int
    /// Who this capturer's claims belong to (this process unless set).
    public var owner = ClaimOwner.current
    /// Seconds a claim lasts if its process cannot be checked (another host): longer than any batch.
    public var leaseSeconds = 3600.0
    /// Seconds between looks at batches that other capturers hold.
    public var pollSeconds = 0.2

    public init(model: Transformer, store: ActivationStore, capture: CaptureRecord, batchSize: Int = 16,
                batchTokens: Int = 8192) {
        self.model = model
        self.store = store
        self.capture = capture
        self.batchSize = max(1, batchSize)
        self.batchTokens = max(1, batchTokens)
    }

    /// Progress after each committed batch, and the totals at the end.
    public struct Progress: Sendable {
        /// Prompts held whole (including ones stored by earlier runs), of `total` (every prompt,
        /// or those within `maxTokens`).
        public var done: Int
        public var total: Int
        /// Prompts and tokens this run captured.
        public var capturedPrompts: Int
        public var capturedTokens: Int
        /// Seconds in forward passes (including the hooks' encoding) and in writing.
        public var forwardSeconds: Double
        public var writeSeconds: Double
    }

    /// Captures every prompt of `prompts` not yet held, keeping `positions[i]` of prompt `i`.
    /// - Parameters:
    ///   - maxTokens: when set, only the leading batches up to the one that brings the
    ///     prompts' tokens (stored or not) to `maxTokens` take part: whole batches, so a capture
    ///     grown in steps forms the same batches, and stores the same bits, as one run.
    ///   - shard: which batches this process captures (batch b when `b % count == index`).
    ///   - report: called after each committed batch; throwing from it stops the run (what
    ///     was committed stays).
    /// - Throws: ``ModelError`` from the pass, ``StoreError`` from writing; batches committed
    ///   before the error stay.
    @discardableResult
    public func run(prompts: [StoredPrompt], positions: [[Int]], maxTokens: Int? = nil, shard: Shard = .whole,
                    report: (Progress) throws -> Void = { _ in }) throws -> Progress {
        precondition(prompts.count == positions.count, "\(prompts.count) prompts, \(positions.count) position lists")
        let done = try store.completedPrompts(capture: capture.id)
        // A shard takes every count-th batch (batch b belongs to shard b mod count): the
        // batches, and so the bits, are those of one process capturing everything.
        let planned = batches(prompts, maxTokens: maxTokens).enumerated().filter { shard.owns($0.offset) }.map(\.element)
        let total = planned.reduce(0) { $0 + $1.count }
        let remaining = planned.joined().filter { !done.contains(prompts[$0].id) }.count
        var progress = Progress(done: total - remaining, total: total, capturedPrompts: 0,
                                capturedTokens: 0, forwardSeconds: 0, writeSeconds: 0)
        let points = try capture.hooks.map { try model.config.hookPoint(named: $0) }
        defer { try? store.releaseClaims(capture: capture.id, owner: owner) }
        // Claims one batch and computes it; false when another capturer holds it.
        func attempt(_ pending: [Int]) throws -> Bool {
            let claim = try store.claim(pending.map { prompts[$0].id }, capture: capture.id, owner: owner, lease: leaseSeconds)
            guard case .claimed(let ids) = claim else {
                if claim == .done { progress.done += pending.count }
                return claim == .done
            }
            let batch = pending.filter { ids.contains(prompts[$0].id) }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let captured = try forward(batch.map { prompts[$0] }, positions: batch.map { positions[$0] }, points: points)
            let t1 = DispatchTime.now().uptimeNanoseconds
            let written = try store.append(captured, to: capture)
            let t2 = DispatchTime.now().uptimeNanoseconds
            progress.forwardSeconds += Double(t1 - t0) / 1e9
            progress.writeSeconds += Double(t2 - t1) / 1e9
            progress.capturedPrompts += written.count
            progress.capturedTokens += batch.reduce(0) { $0 + (written.contains(prompts[$1].id) ? prompts[$1].tokens.count : 0) }
            progress.done += pending.count  // the whole batch is committed now
            try report(progress)
            return true
        }
        // Batches are cut from the whole prompt list, so a resumed run forms the same batches
        // as an uninterrupted one (each batch commits whole) and stores identical bits.
        var waiting: [[Int]] = []
        for whole in planned {
            let pending = whole.filter { !done.contains(prompts[$0].id) }
            if !pending.isEmpty, try !attempt(pending) { waiting.append(pending) }
        }
        // What other capturers held: wait for them to commit it, or take it over.
        while !waiting.isEmpty {
            Thread.sleep(forTimeInterval: pollSeconds)
            waiting = try waiting.filter { try !attempt($0) }
        }
        return progress
    }

    /// Consecutive runs of prompt indices of at most `batchSize` prompts and `batchTokens`
    /// tokens (a longer prompt forms a batch alone); with `maxTokens`, the leading batches
    /// whose preceding batches hold fewer than `maxTokens` tokens.
    func batches(_ prompts: [StoredPrompt], maxTokens: Int? = nil) -> [[Int]] {
        Self.batches(tokenCounts: prompts.map(\.tokens.count), batchSize: batchSize, batchTokens: batchTokens, maxTokens: maxTokens)
    }

    /// The batches a capture forms from prompts of these token counts: consecutive runs of
    /// at most `batchSize` prompts and `batchTokens` tokens (a longer prompt alone), and with
    /// `maxTokens` only the leading batches whose predecessors hold fewer tokens. Every
    /// process forms the same batches, so shards and resumed runs store the same bits.
    public static func batches(tokenCounts: [Int], batchSize: Int, batchTokens: Int, maxTokens: Int? = nil) -> [[Int]] {
        var out: [[Int]] = []
        var current: [Int] = [], tokens = 0, before = 0
        let cap = maxTokens ?? Int.max
        for (i, count) in tokenCounts.enumerated() {
            if !current.isEmpty && (current.count == batchSize || tokens + count > batchTokens) {
                out.append(current)
                before += tokens
                current = []
                tokens = 0
                if before >= cap { return out }
            }
            current.append(i)
            tokens += count
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// One forward pass over `batch`, returning each prompt's encoded activations.
    func forward(_ batch: [StoredPrompt], positions: [[Int]], points: [HookPoint]) throws -> [CapturedPrompt] {
        let sink = Sink(count: batch.count, hooks: points.count)
        var hooks = HookSet()
        let dtype = capture.dtype
        for (h, point) in points.enumerated() {
            hooks.observe(point) { act, ctx in
                let kept = positions[ctx.sequence].map { $0 - ctx.positions.lowerBound }
                sink.slots[ctx.sequence][h] = Capturer.encode(act, point: point, rows: kept, dtype: dtype)
            }
        }
        // Nothing after the deepest hooked block can change what was captured: end the pass there.
        do {
            switch Capturer.stopPoint(points, layers: model.config.nLayers) {
            case .residPost(let layer)?: try model.forward(batch.map(\.tokens), hooks: hooks, through: layer)
            case .residPre(0)?: try model.forward(batch.map(\.tokens), hooks: hooks, through: -1)   // embeddings only
            default: _ = try model.forward(batch.map(\.tokens), hooks: hooks, logits: .none)
            }
        } catch let error as ModelError {
            throw Capturer.naming(error, in: batch)
        }
        return batch.indices.map { i in
            CapturedPrompt(promptID: batch[i].id, positions: positions[i], activations: points.indices.map { h in
                let (shape, data) = sink.slots[i][h]!
                return CapturedActivation(hook: points[h].name, shape: shape, data: data)
            })
        }
    }

    /// A model error about sequence `s` of a batch, restated for the prompt's line in its file
    /// (the batch's sequence number means nothing to the user).
    static func naming(_ error: ModelError, in batch: [StoredPrompt]) -> any Error {
        func prompt(_ s: Int) -> String { "prompt line \(batch[s].line) (prompt \(batch[s].index))" }
        switch error {
        case let .tokenOutOfRange(s, position, token, vocab) where batch.indices.contains(s):
            return StoreError.badPosition(prompt: prompt(s), reason: "token \(position): id \(token) is outside the model's vocabulary (0..<\(vocab))")
        case let .promptTooLong(s, tokens, context) where batch.indices.contains(s):
            return StoreError.badPosition(prompt: prompt(s), reason: "\(tokens) tokens, longer than the model's context of \(context) tokens")
        case let .emptySequence(s) where batch.indices.contains(s):
            return StoreError.badPosition(prompt: prompt(s), reason: "no tokens: nothing to capture")
        default:
            return error
        }
    }

    /// Rows `rows` of one sequence's activation, encoded: shape rows-first. Patterns
    /// (`[heads, q, k]`) become `[rows, heads, k]`.
    static func encode(_ act: Tensor, point: HookPoint, rows: [Int], dtype: ActivationDType) -> ([Int], Data) {
        if case .pattern = point {
            let (heads, q, k) = (act.shape[0], act.shape[1], act.shape[2])
            var out = [Float](); out.reserveCapacity(rows.count * heads * k)
            for r in rows { for h in 0..<heads { out += act.scalars[((h * q + r) * k)..<((h * q + r + 1) * k)] } }
            return ([rows.count, heads, k], out.withUnsafeBufferPointer { dtype.encode($0) })
        }
        let n = act.shape[0], width = n == 0 ? 0 : act.count / n
        let shape = [rows.count] + act.shape.dropFirst()
        if rows.count == n && rows.first == 0 && rows.last == n - 1 {
            return (shape, act.withUnsafeBufferPointer { dtype.encode($0) })
        }
        var out = [Float](); out.reserveCapacity(rows.count * width)
        for r in rows { out += act.scalars[(r * width)..<((r + 1) * width)] }
        return (shape, out.withUnsafeBufferPointer { dtype.encode($0) })
    }

    /// The point after which a pass capturing `points` may stop: the residual stream after the
    /// deepest hooked block (before block 0 when only embeddings are hooked), or nil when
    /// that is the last block or the final norm is hooked (nothing to save).
    public static func stopPoint(_ points: [HookPoint], layers: Int) -> HookPoint? {
        if points.contains(.finalNorm) { return nil }
        guard let deepest = points.compactMap(\.layer).max() else { return layers > 0 ? .residPre(0) : nil }
        return deepest < layers - 1 ? .residPost(deepest) : nil
    }

    /// Where the hooks of one pass leave each sequence's encoded activations.
    final class Sink {
        var slots: [[([Int], Data)?]]
        init(count: Int, hooks: Int) { slots = Array(repeating: Array(repeating: nil, count: hooks), count: count) }
    }
}
