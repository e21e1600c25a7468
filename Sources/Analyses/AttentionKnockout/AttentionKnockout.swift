import Linalg
import Models

/// Attention knockout as in Geva et al. (2023), "Dissecting Recall of Factual Associations in
/// Auto-Regressive Language Models", §4: block the attention edges from the last position to a
/// set of source positions in a window of layers around each layer, and measure the relative
/// change in the probability of the target token. A large drop at layer L says that around L
/// the last position reads something it needs from those positions.
///
/// Blocking edges sets their attention scores to minus infinity before the softmax, which is
/// the same as zeroing them after it and renormalizing the row: that is what the `pattern`
/// hook does here. Only the last position's computation changes (nothing attends to it), so
/// every run resumes at its window's first layer with that one row and the clean run's KV
/// cache, and all runs go through the forward pass as one batch.
public struct AttentionKnockout: Sendable {
    /// Which edges into the last position are blocked.
    public enum Block: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
        /// From the subject's tokens.
        case subject
        /// From every token that is neither the subject nor the last.
        case nonSubject = "non-subject"
        /// From the last token to itself.
        case last

        /// The source positions blocked, for a prompt of `length` tokens with the subject at
        /// `subject`; position 0 only when `blockFirst`.
        public func sources(subject: Range<Int>, length: Int, blockFirst: Bool) -> [Int] {
            let all: [Int]
            switch self {
            case .subject: all = subject.filter { $0 < length - 1 }
            case .nonSubject: all = (0..<(length - 1)).filter { !subject.contains($0) }
            case .last: all = [length - 1]
            }
            return all.filter { blockFirst || $0 > 0 || length == 1 }
        }
    }

    /// Settings.
    public struct Config: Codable, Sendable, Equatable {
        /// Layers blocked together around each layer (Geva et al.: 9 for GPT-2 XL's 48 layers).
        public var window: Int
        public var blocks: [Block]
        /// Whether edges to position 0 may be blocked. Off by default: the first position is
        /// an attention sink (in SmolLM2 its residual stream has ~100x the norm of the others
        /// and most heads park their attention there), so blocking it breaks attention as a
        /// whole rather than cutting one flow of information: every block that includes it
        /// drops the target's probability by ~100% at almost every layer.
        public var blockFirst: Bool

        public init(window: Int = 9, blocks: [Block] = Block.allCases, blockFirst: Bool = false) {
            self.window = window
            self.blocks = blocks
            self.blockFirst = blockFirst
        }
    }

    /// What a knockout found.
    public struct Result: Codable, Sendable {
        public var config: Config
        public var tokens: [Int]
        public var subject: Range<Int>
        public var target: Int
        public var cleanProbability: Double
        /// Per layer: the layers blocked together for it.
        public var windows: [Range<Int>]
        /// Per block, `[layer]`: the target's probability with the edges blocked in the
        /// window around the layer.
        public var probabilities: [Block: [Double]]

        /// `100 x (p - clean p) / clean p` per layer: the relative change in percent.
        public func relativeChange(_ block: Block) -> [Double]? {
            probabilities[block]?.map { 100 * ($0 - cleanProbability) / cleanProbability }
        }
    }

    public let model: Transformer
    public let config: Config

    public init(model: Transformer, config: Config = Config()) {
        self.model = model
        self.config = config
    }

    /// The layers blocked together for `layer`: `layer - w/2` up to but not including
    /// `layer + ceil(w/2)`, clipped to the model (ROME's window convention).
    public func window(around layer: Int) -> Range<Int> {
        layerWindow(around: layer, width: config.window, layers: model.config.nLayers)
    }

    /// Knocks out each configured block at every layer.
    ///
    /// - Parameter target: the token whose probability is measured; nil for the clean top-1.
    public func run(tokens: [Int], subject: Range<Int>, target: Int? = nil) throws -> Result {
        let c = model.config, n = tokens.count, layers = c.nLayers
        guard !subject.isEmpty, subject.lowerBound >= 0, subject.upperBound <= n else { throw AnalysisError.emptySubject }
        guard n >= 2 else { throw AnalysisError.invalid("knockout needs a prompt of at least 2 tokens") }
        let clean = ActivationCache()
        var capture = HookSet()
        capture.capture((0..<layers).map { .residPre($0) }, into: clean)
        let cache = KVCache(config: c, reserve: n)
        let logits = try model.forward([tokens], caches: [cache], hooks: capture).logits[0].scalars
        let target = target ?? Sampler.argmax(logits)
        let cleanP = targetProbability(logits, target: target)

        // One run per (block, layer): the last row, resumed at the window's first layer.
        struct Run { let sources: [Int]; let window: Range<Int> }
        var runs: [Run] = []
        for block in config.blocks {
            let sources = block.sources(subject: subject, length: n, blockFirst: config.blockFirst)
            for layer in 0..<layers { runs.append(Run(sources: sources, window: window(around: layer))) }
        }
        var result = Result(config: config, tokens: tokens, subject: subject, target: target,
                            cleanProbability: cleanP, windows: (0..<layers).map(window(around:)), probabilities: [:])
        // Runs resuming at the same layer share a batch.
        var probabilities = [Double](repeating: .nan, count: runs.count)
        for start in Set(runs.map(\.window.lowerBound)).sorted() {
            let batch = runs.indices.filter { runs[$0].window.lowerBound == start }
            var hooks = HookSet()
            for l in start..<layers {
                hooks.modify(.pattern(l)) { act, ctx in
                    let run = runs[batch[ctx.sequence]]
                    guard run.window.contains(l), !run.sources.isEmpty else { return }
                    // [heads, 1, n]: zero the blocked keys of the one query row and renormalize.
                    let keys = act.shape[2]
                    for h in 0..<act.shape[0] {
                        let row = h * keys
                        for s in run.sources { act.scalars[row + s] = 0 }
                        let sum = act.scalars[row..<(row + keys)].reduce(0, +)
                        if sum > 0 { for k in 0..<keys { act.scalars[row + k] /= sum } }
                    }
                }
            }
            let out = try model.forward(resuming: start, residuals: batch.map { _ in clean.tensor(.residPre(start))!.rows((n - 1)..<n) },
                                        caches: batch.map { _ in cache.copy(prefix: n - 1, reserve: 1, fromLayer: start) },
                                        hooks: hooks, logits: .last).logits
            for (i, r) in batch.enumerated() { probabilities[r] = targetProbability(out[i].scalars, target: target) }
        }
        for (b, block) in config.blocks.enumerated() {
            result.probabilities[block] = Array(probabilities[(b * layers)..<((b + 1) * layers)])
        }
        return result
    }
}
