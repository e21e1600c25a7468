import Linalg

/// An attribution graph of one prompt (Ameisen et al. 2025, "Circuit Tracing"): the direct,
/// linear effect of every active transcoder feature, error node and input token on every
/// feature's pre-activation and on the selected output logits, in the frozen local
/// replacement model. Nodes follow ``GraphLayout``; `adjacency` is `[nodes, nodes]` row-major
/// with rows the targets and columns the sources (circuit-tracer's `Graph.adjacency_matrix`):
/// error, token and logit rows are zero, as are logit columns.
public struct AttributionGraph: Sendable {
    public let replacement: LocalReplacementModel
    public let layout: GraphLayout
    public let logitTargets: LogitTargets
    public let adjacency: [Float]

    /// How a graph is computed.
    public struct Options: Sendable {
        /// At most this many logit nodes (circuit-tracer `max_n_logits`, 10).
        public var maxLogits: Int
        /// Logit nodes until their probabilities sum to this (`desired_logit_prob`, 0.95).
        public var logitProbability: Float
        /// Targets per backward pass: memory is about `3 · batch · positions · d_model` floats plus `batch · nodes`.
        public var batchSize: Int

        public init(maxLogits: Int = 10, logitProbability: Float = 0.95, batchSize: Int = 256) {
            self.maxLogits = maxLogits
            self.logitProbability = logitProbability
            self.batchSize = batchSize
        }
    }

    public var features: [ActiveFeature] { replacement.features }

    /// Computes the graph: the logit rows, then every feature's row, `batchSize` targets per
    /// backward pass (features taken from the top layer down, so each pass starts high).
    /// `progress` gets (rows done, rows in all) after each pass.
    /// - Throws: ``GraphError/badOption(_:)`` for a batch size below 1 or bad logit options.
    public init(_ replacement: LocalReplacementModel, options: Options = Options(), progress: ((Int, Int) -> Void)? = nil) throws {
        guard options.batchSize >= 1 else { throw GraphError.badOption("batch size \(options.batchSize): must be at least 1") }
        let c = replacement.config, n = replacement.positions, d = c.dModel, vocab = c.vocabSize
        let last = Array(replacement.logits[((n - 1) * vocab)..<(n * vocab)])
        let targets = try LogitTargets(logits: last, maxCount: options.maxLogits, probability: options.logitProbability)
        let layout = GraphLayout(features: replacement.features.count, layers: c.nLayers, positions: n, logits: targets.tokens.count)
        self.replacement = replacement
        self.layout = layout
        logitTargets = targets
        let backward = FrozenBackward(replacement, layout: layout)
        let nodes = layout.nodes, sources = layout.sources
        var adjacency = [Float](repeating: 0, count: nodes * nodes)
        // Logit rows: demeaned unembedding rows at the last position.
        let unembed = c.vocabSize > 0 ? replacement.model.weights.unembed.dense().scalars : []
        var mean = [Double](repeating: 0, count: d)
        for t in 0..<vocab { for j in 0..<d { mean[j] += Double(unembed[t * d + j]) } }
        let meanRow = mean.map { Float($0 / Double(vocab)) }
        var jobs: [(node: Int, target: FrozenBackward.Target)] = targets.tokens.enumerated().map { i, t in
            (layout.logitNode(i), .init(layer: c.nLayers, position: n - 1, vector: (0..<d).map { unembed[t * d + $0] - meanRow[$0] }))
        }
        let byLayer = replacement.features.indices.sorted { replacement.features[$0].layer > replacement.features[$1].layer || (replacement.features[$0].layer == replacement.features[$1].layer && $0 < $1) }
        jobs += byLayer.map { i in
            let f = replacement.features[i]
            return (i, .init(layer: f.layer, position: f.position, vector: replacement.encoderVector(f)))
        }
        var done = 0
        for start in stride(from: 0, to: jobs.count, by: options.batchSize) {
            let batch = Array(jobs[start..<min(jobs.count, start + options.batchSize)])
            let rows = backward.rows(batch.map(\.target))
            for (r, job) in batch.enumerated() {
                for j in 0..<sources { adjacency[job.node * nodes + j] = rows[r * sources + j] }
            }
            done += batch.count
            progress?(done, jobs.count)
        }
        self.adjacency = adjacency
    }

    /// Weight of the edge from `source` to `target`.
    public func edge(from source: Int, to target: Int) -> Float { adjacency[target * layout.nodes + source] }
}
