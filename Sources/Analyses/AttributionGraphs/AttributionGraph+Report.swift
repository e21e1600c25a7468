import Foundation
import Reporting

extension AttributionGraph {
    /// What the report writes beside the graph: the texts of tokens and the settings used.
    public struct ReportInputs: Sendable {
        public var prompt: String
        /// Decoded text of each prompt token.
        public var promptTokens: [String]
        /// Decoded text of each logit target.
        public var logitTokens: [String]
        public var slug: String
        /// The transcoder set's name for the frontend (`scan`).
        public var scan: String
        public var nodeThreshold: Float
        public var edgeThreshold: Float
        /// The command line shown on the page (nil: none).
        public var command: String?
        /// Most nodes and edges the figure draws (strongest first; the caption says what was left out).
        public var figureNodes = 120, figureEdges = 400
        /// The BOS choice (``GraphBOS/recorded(for:)``, e.g. `prepend` or `auto (none)`) for
        /// the JSON metadata and `summary.txt`; nil: not recorded.
        public var bos: String?

        public init(prompt: String, promptTokens: [String], logitTokens: [String], slug: String, scan: String,
                    nodeThreshold: Float, edgeThreshold: Float) {
            (self.prompt, self.promptTokens, self.logitTokens, self.slug, self.scan) = (prompt, promptTokens, logitTokens, slug, scan)
            (self.nodeThreshold, self.edgeThreshold) = (nodeThreshold, edgeThreshold)
        }
    }

    /// A readable name of node `i` (`L3 #17 @5 'Paris'`, `error L3 @5`, `token @2 'the'`, `logit ' Paris'`).
    public func nodeLabel(_ i: Int, inputs: ReportInputs) -> String {
        func tok(_ p: Int) -> String { p < inputs.promptTokens.count ? " '\(inputs.promptTokens[p])'" : "" }
        switch layout.kind(of: i) {
        case .feature(let f): let a = features[f]; return "L\(a.layer) #\(a.feature) @\(a.position)\(tok(a.position))"
        case .error(let l, let p): return "error L\(l) @\(p)\(tok(p))"
        case .token(let p): return "token @\(p)\(tok(p))"
        case .logit(let k): return "logit '\(k < inputs.logitTokens.count ? inputs.logitTokens[k] : String(logitTargets.tokens[k]))'"
        }
    }

    /// Writes `<slug>.json` (circuit-tracer's frontend schema) and `graph-metadata.json` (the
    /// frontend's index of graphs), `nodes.csv` (every node: kind, layer, position, feature,
    /// activation, influence, kept), `edges.csv` (kept edges with weights), `summary.txt`
    /// (sizes, scores, logits, strongest token-to-answer paths, the feature chain into the
    /// answer and its largest direct inputs), `graph.svg` (the pruned graph,
    /// ``figure(pruning:inputs:maxNodes:maxEdges:link:)``) and `index.html`
    /// (``page(pruning:inputs:scores:figure:contexts:contextsHint:tokenText:)``) into `directory`.
    /// - Returns: the files written.
    @discardableResult
    public func writeReport(to directory: String, pruning: GraphPruning, inputs: ReportInputs,
                            scores: (replacement: Float, completeness: Float), contexts: GraphFeatureContexts? = nil,
                            contextsHint: String = "Top-activating contexts: rerun with --store STORE (a capture of blocks.L.mlp.hook_in) or --corpus FILE --context N --max-tokens T.",
                            tokenText: ((Int) -> String)? = nil) throws -> [String] {
        var folder = try ReportFolder(directory: URL(fileURLWithPath: directory, isDirectory: true))
        let document = GraphJSON.document(self, pruning: pruning, slug: inputs.slug, scan: inputs.scan, prompt: inputs.prompt,
                                          promptTokens: inputs.promptTokens, logitTokens: inputs.logitTokens, nodeThreshold: inputs.nodeThreshold,
                                          bos: inputs.bos)
        try folder.write(try GraphJSON.encode(document), to: "\(inputs.slug).json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try folder.write(try encoder.encode(["graphs": [document.metadata]]), to: "graph-metadata.json")
        var nodesTable = CSVTable(header: ["node", "kind", "layer", "position", "feature", "activation", "influence", "cumulative_influence", "kept", "label"])
        for i in 0..<layout.nodes {
            var row: [CSVCell]
            switch layout.kind(of: i) {
            case .feature(let f): let a = features[f]; row = ["feature", .int(a.layer), .int(a.position), .int(a.feature), .double(Double(a.activation))]
            case .error(let l, let p): row = ["error", .int(l), .int(p), "", ""]
            case .token(let p): row = ["token", "", .int(p), .int(replacement.tokens[p]), ""]
            case .logit(let k): row = ["logit", "", .int(layout.positions - 1), .int(logitTargets.tokens[k]), .double(Double(logitTargets.probabilities[k]))]
            }
            nodesTable.append([.int(i)] + row + [.double(Double(pruning.influence[i])), .double(Double(pruning.cumulativeScores[i])),
                                                 .int(pruning.nodeMask[i] ? 1 : 0), .string(nodeLabel(i, inputs: inputs))])
        }
        try folder.write(nodesTable, to: "nodes.csv")
        var edgesTable = CSVTable(header: ["source", "target", "weight", "source_label", "target_label"])
        for t in 0..<layout.nodes { for s in 0..<layout.nodes where pruning.edgeMask[t * layout.nodes + s] && pruning.nodeMask[s] && pruning.nodeMask[t] {
            edgesTable.append([.int(s), .int(t), .double(Double(edge(from: s, to: t))), .string(nodeLabel(s, inputs: inputs)), .string(nodeLabel(t, inputs: inputs))])
        } }
        try folder.write(edgesTable, to: "edges.csv")
        try folder.writeSummary(summary(pruning: pruning, inputs: inputs, scores: scores))
        let standalone = figure(pruning: pruning, inputs: inputs, maxNodes: inputs.figureNodes, maxEdges: inputs.figureEdges) { "index.html#node-\($0)" }
        try folder.write(standalone.drawing.svg(), to: "graph.svg")
        let inline = figure(pruning: pruning, inputs: inputs, maxNodes: inputs.figureNodes, maxEdges: inputs.figureEdges)
        try folder.writeIndex(page(pruning: pruning, inputs: inputs, scores: scores, figure: (inline.drawing.svg(), inline.caption),
                                   contexts: contexts, contextsHint: contextsHint, tokenText: tokenText))
        return folder.writtenFiles.map { folder.url.appendingPathComponent($0).path }
    }

    /// The `summary.txt` text.
    public func summary(pruning: GraphPruning, inputs: ReportInputs, scores: (replacement: Float, completeness: Float)) -> SummaryText {
        var s = SummaryText(title: "Attribution graph: \(inputs.prompt)")
        s.field("tokens", layout.positions)
        if let bos = inputs.bos { s.field("BOS", bos) }
        s.field("active features", layout.features)
        s.field("nodes", layout.nodes)
        s.field("kept nodes", pruning.nodeMask.filter { $0 }.count)
        s.field("kept edges", pruning.edgeMask.filter { $0 }.count)
        s.field("node threshold", Double(inputs.nodeThreshold))
        s.field("edge threshold", Double(inputs.edgeThreshold))
        s.field("replacement score", Double(scores.replacement))
        s.field("completeness score", Double(scores.completeness))
        s.blankLine()
        for (k, t) in logitTargets.tokens.enumerated() {
            s.field("logit \(k)", "'\(k < inputs.logitTokens.count ? inputs.logitTokens[k] : String(t))' (id \(t)) p=\(String(format: "%.4f", logitTargets.probabilities[k]))")
        }
        s.blankLine()
        s.sentence("Strongest paths from tokens to the top logit (product of normalized edge weights):")
        for path in GraphPath.strongest(in: self, pruning: pruning).prefix(5) {
            s.sentence(String(format: "%.4f  ", path.strength) + path.nodes.map { nodeLabel($0, inputs: inputs) }.joined(separator: " -> "))
        }
        s.blankLine()
        s.sentence("Feature chain into the top logit (walked back from it: at each node the feature with the largest positive edge into it; edge weights in brackets):")
        let chain = GraphPath.featureChain(in: self)
        s.sentence(chain.nodes.enumerated().map { i, node in
            nodeLabel(node, inputs: inputs) + (i < chain.weights.count ? " -[" + NumberFormat.string(chain.weights[i]) + "]->" : "")
        }.joined(separator: " "))
        s.blankLine()
        s.sentence("Largest direct inputs to the top logit (edge weights, any node kind):")
        for e in strongestEdges(of: layout.logitNode(0), incoming: true, count: 8) {
            s.sentence(NumberFormat.string(e.weight) + "  " + nodeLabel(e.node, inputs: inputs))
        }
        return s
    }
}
