import Foundation
import Linalg
import Store

/// How an SAE's latents fire over one hook of a store capture, gathered in one streaming pass:
/// per latent its firing count, largest and summed activation, its `topCount` largest
/// activations with where they occurred, and a seeded uniform sample of the rest (reservoir
/// sampling), from which quantile bands and histograms are drawn. Memory is bounded by the
/// batch and `d_sae · (topCount + sampleCount)` occurrences, not by the capture.
///
/// Rows at position 0 (the attention sink) and rows whose norm exceeds `outlierFactor` times
/// the median norm of the first batch are left out and counted, as ``StoreSource`` does in
/// training.
public struct SAEFeatureStatistics: Sendable {
    /// One latent's activation on one stored token.
    public struct Occurrence: Sendable, Equatable {
        public var prompt: Int
        public var position: Int
        public var token: Int
        public var value: Float
    }

    /// Where the rows came from (`store capture N hook`).
    public var source: String
    /// The hook the rows were read at.
    public var hook: String
    /// Rows encoded (after leaving out position 0 and outliers).
    public var rows: Int
    /// Rows left out, by reason (`position 0`, `outlier`).
    public var skipped: [String: Int]
    /// Per latent, the rows it fired on (activation > 0).
    public var fired: [Int]
    /// Per latent, its largest activation (0 when it never fired).
    public var maxActivation: [Float]
    /// Per latent, the sum of its activations.
    public var sumActivation: [Double]
    /// Per latent, its largest activations, largest first (ties: earlier rows first).
    public var top: [[Occurrence]]
    /// Per latent, a uniform sample of the rows it fired on (at most `sampleCount`).
    public var sample: [[Occurrence]]
    /// `l0Counts[i]`: rows with exactly `i` active latents (the last entry counts `>= count - 1`).
    public var l0Counts: [Int]
    /// Per prompt index, its text and token ids, for every prompt an occurrence names.
    public var prompts: [Int: (text: String, tokens: [Int])]

    /// Latents in all.
    public var latents: Int { fired.count }
    /// Per latent, the fraction of rows it fired on.
    public var density: [Double] { fired.map { rows > 0 ? Double($0) / Double(rows) : 0 } }
    /// Mean number of active latents per row.
    public var meanL0: Double {
        rows > 0 ? Double(l0Counts.enumerated().reduce(0) { $0 + $1.offset * $1.element }) / Double(rows) : 0
    }

    /// Encodes every kept row of `hook` in capture `id` (nil: the store's only capture) of the
    /// store at `path` with `sae`, `batchSize` rows at a time; `progress(rowsRead, rowsInAll)`.
    /// `tracked` (nil: all) limits the latents whose top lists and samples are kept (the others
    /// are still counted), bounding memory when only a few latents are wanted.
    /// - Throws: `StoreError` when the store, capture or hook is missing;
    ///   ``SAEError/widthMismatch(expected:found:what:)`` when the hook's width is not the SAE's
    ///   `d_in`; ``SAEError/noRows(_:)`` when no row is left; ``SAEError/nonFinite(row:what:)``.
    public static func collect(sae: any SparseAutoencoder, store path: String, capture id: Int64?, hook: String,
                               outlierFactor: Float = 10, topCount: Int = 20, sampleCount: Int = 200, seed: UInt64 = 0,
                               batchSize: Int = 2048, tracked: Set<Int>? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SAEFeatureStatistics {
        guard batchSize >= 1 else { throw SAEError.badSize("batch size \(batchSize) must be at least 1") }
        let db = try ActivationStore(path: path)
        let summary = try db.captureSummary(choosing: id)
        let capture = try db.capture(id: summary.id)
        var reader = try ActivationReader(store: db, capture: capture, hook: hook, batchSize: batchSize)
        let source = "\(URL(fileURLWithPath: path).lastPathComponent) capture \(summary.id) \(hook)"
        guard reader.width == sae.width else {
            throw SAEError.widthMismatch(expected: sae.width, found: reader.width, what: "\(source) rows")
        }
        var collector = try Collector(sae: sae, source: source, hook: hook, outlierFactor: outlierFactor, topCount: topCount,
                                      sampleCount: sampleCount, seed: seed, tracked: tracked)
        var read = 0
        while let batch = try reader.nextBatch() {
            try collector.add(batch.rows, prompts: batch.promptIndices, positions: batch.positions, tokens: batch.tokens)
            read += batch.rows.shape[0]
            progress?(read, reader.rowCount)
        }
        let named = collector.namedPrompts
        var prompts: [Int: (text: String, tokens: [Int])] = [:]
        for p in try db.prompts(dataset: capture.datasetID) where named.contains(p.index) { prompts[p.index] = (p.text, p.tokens) }
        return try collector.finish(prompts: prompts)
    }

    /// One streaming pass's state, fed batches of rows from any source (a store, live forward
    /// passes): the filter (position 0, and rows above `outlierFactor` times the median norm of
    /// the first batch's other rows) and the per-latent accumulator.
    public struct Collector {
        let sae: any SparseAutoencoder
        let outlierFactor: Float
        var stats: SAEFeatureStatistics
        var accumulator: Accumulator
        var threshold: Float?
        var read = 0

        /// - Throws: ``SAEError/badSize(_:)`` for a top or sample count below 1.
        public init(sae: any SparseAutoencoder, source: String, hook: String, outlierFactor: Float = 10, topCount: Int = 20,
                    sampleCount: Int = 200, seed: UInt64 = 0, tracked: Set<Int>? = nil) throws {
            guard topCount >= 1, sampleCount >= 1 else {
                throw SAEError.badSize("top count \(topCount) and sample count \(sampleCount) must be at least 1")
            }
            self.sae = sae
            self.outlierFactor = outlierFactor
            stats = SAEFeatureStatistics(source: source, hook: hook, latents: sae.latents)
            accumulator = Accumulator(latents: sae.latents, topCount: topCount, sampleCount: sampleCount, seed: seed, tracked: tracked)
        }

        /// Encodes one batch `[n, d_in]`: row r is `positions[r]` of prompt `prompts[r]`, token `tokens[r]`.
        /// - Throws: ``SAEError/nonFinite(row:what:)`` naming the prompt and position.
        public mutating func add(_ rows: Tensor, prompts: [Int], positions: [Int], tokens: [Int]) throws {
            let n = rows.shape[0], d = sae.width, m = sae.latents
            let norms = (0..<n).map { r in rows.withUnsafeBufferPointer { BLAS.norm(n: d, x: $0.baseAddress! + r * d) } }
            if threshold == nil {
                let kept = zip(norms, positions).filter { $0.1 != 0 }.map(\.0).sorted()
                threshold = kept.isEmpty ? nil : outlierFactor * kept[kept.count / 2]
            }
            var keep: [Int] = []
            for r in 0..<n {
                if positions[r] == 0 { stats.skipped["position 0", default: 0] += 1; continue }
                if let t = threshold, norms[r] > t || !norms[r].isFinite { stats.skipped["outlier", default: 0] += 1; continue }
                keep.append(r)
            }
            read += n
            guard !keep.isEmpty else { return }
            var picked = [Float](repeating: 0, count: keep.count * d)
            rows.withUnsafeBufferPointer { src in
                for (i, r) in keep.enumerated() { for j in 0..<d { picked[i * d + j] = src[r * d + j] } }
            }
            let codes: Tensor
            do { codes = try sae.encode(Tensor(shape: [keep.count, d], scalars: picked)) } catch SAEError.nonFinite(let row, _) {
                let r = keep[row]
                throw SAEError.nonFinite(row: read - n + r, what: "\(stats.source) (prompt \(prompts[r]), position \(positions[r]))")
            }
            codes.withUnsafeBufferPointer { f in
                for (i, r) in keep.enumerated() {
                    var active = 0
                    for latent in 0..<m where f[i * m + latent] > 0 {
                        active += 1
                        accumulator.add(Occurrence(prompt: prompts[r], position: positions[r], token: tokens[r], value: f[i * m + latent]), to: latent)
                    }
                    stats.l0Counts[min(active, stats.l0Counts.count - 1)] += 1
                }
            }
            stats.rows += keep.count
        }

        /// The prompts an occurrence names (the texts ``finish(prompts:)`` needs).
        public var namedPrompts: Set<Int> { Set((accumulator.top + accumulator.sample).flatMap { $0.map(\.prompt) }) }

        /// The statistics, with `prompts` (index: text and tokens) for the contexts.
        /// - Throws: ``SAEError/noRows(_:)`` when no row was kept.
        public func finish(prompts: [Int: (text: String, tokens: [Int])]) throws -> SAEFeatureStatistics {
            guard stats.rows > 0 else { throw SAEError.noRows("\(stats.source) holds no rows after leaving out position 0 and outliers") }
            var s = stats
            (s.fired, s.maxActivation, s.sumActivation) = (accumulator.fired, accumulator.maxima, accumulator.sums)
            (s.top, s.sample) = (accumulator.top, accumulator.sample)
            let named = namedPrompts
            s.prompts = prompts.filter { named.contains($0.key) }
            return s
        }
    }

    init(source: String, hook: String, latents: Int) {
        self.source = source
        self.hook = hook
        rows = 0
        skipped = ["position 0": 0, "outlier": 0]
        fired = Array(repeating: 0, count: latents)
        maxActivation = Array(repeating: 0, count: latents)
        sumActivation = Array(repeating: 0, count: latents)
        top = Array(repeating: [], count: latents)
        sample = Array(repeating: [], count: latents)
        l0Counts = Array(repeating: 0, count: min(latents, 4096) + 2)
        prompts = [:]
    }

    /// `count` latents that fired at least once, drawn uniformly with `seed`, in increasing order
    /// (all live latents when fewer).
    public func sampleLiveLatents(_ count: Int, seed: UInt64) -> [Int] {
        var live = fired.indices.filter { fired[$0] > 0 }
        var rng = SeededRandom(seed: seed)
        for i in stride(from: live.count - 1, to: 0, by: -1) { live.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return live.prefix(max(count, 0)).sorted()
    }

    /// The per-latent running state of one pass.
    struct Accumulator {
        let topCount: Int
        let sampleCount: Int
        var rng: SeededRandom
        var fired: [Int]
        var maxima: [Float]
        var sums: [Double]
        var top: [[Occurrence]]
        var sample: [[Occurrence]]
        /// Latents whose top list and sample are kept (nil: all).
        let tracked: Set<Int>?

        init(latents: Int, topCount: Int, sampleCount: Int, seed: UInt64, tracked: Set<Int>? = nil) {
            (self.topCount, self.sampleCount, self.tracked) = (topCount, sampleCount, tracked)
            rng = SeededRandom(seed: seed)
            fired = Array(repeating: 0, count: latents)
            maxima = Array(repeating: 0, count: latents)
            sums = Array(repeating: 0, count: latents)
            top = Array(repeating: [], count: latents)
            sample = Array(repeating: [], count: latents)
        }

        mutating func add(_ o: Occurrence, to latent: Int) {
            fired[latent] += 1
            sums[latent] += Double(o.value)
            maxima[latent] = max(maxima[latent], o.value)
            if let tracked, !tracked.contains(latent) { return }
            // Top list, largest first; an equal value never displaces an earlier row.
            if top[latent].count < topCount || o.value > top[latent][topCount - 1].value {
                let at = top[latent].firstIndex { $0.value < o.value } ?? top[latent].count
                top[latent].insert(o, at: at)
                if top[latent].count > topCount { top[latent].removeLast() }
            }
            // Reservoir sampling (Vitter's algorithm R) over the rows the latent fired on.
            if sample[latent].count < sampleCount {
                sample[latent].append(o)
            } else {
                let j = Int(rng.next() % UInt64(fired[latent]))
                if j < sampleCount { sample[latent][j] = o }
            }
        }
    }
}
