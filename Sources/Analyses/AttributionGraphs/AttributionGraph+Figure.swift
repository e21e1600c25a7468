import Foundation
import Reporting

extension AttributionGraph {
    /// Which kept nodes and edges the figure draws: every kept token and logit node, then the
    /// kept feature and error nodes by influence, largest first, until `maxNodes` in all; then
    /// the kept edges between drawn nodes, largest |weight| first, at most `maxEdges`.
    public struct FigureSelection: Sendable, Equatable {
        /// Node indices drawn, in node order.
        public let nodes: [Int]
        /// (source, target) pairs drawn, in target-major node order.
        public let edges: [(source: Int, target: Int)]
        /// Kept nodes and edges in all (what the cap left out is the difference).
        public let keptNodes: Int, keptEdges: Int

        public static func == (a: Self, b: Self) -> Bool {
            a.nodes == b.nodes && a.keptNodes == b.keptNodes && a.keptEdges == b.keptEdges
                && a.edges.map { [$0.source, $0.target] } == b.edges.map { [$0.source, $0.target] }
        }
    }

    /// The nodes and edges ``figure(pruning:inputs:maxNodes:maxEdges:link:)`` draws.
    public func figureSelection(pruning: GraphPruning, maxNodes: Int = 120, maxEdges: Int = 400) -> FigureSelection {
        let n = layout.nodes
        let kept = (0..<n).filter { pruning.nodeMask[$0] }
        let fixed = kept.filter { $0 >= layout.tokenOffset }
        let inner = kept.filter { $0 < layout.tokenOffset }
            .sorted { pruning.influence[$0] != pruning.influence[$1] ? pruning.influence[$0] > pruning.influence[$1] : $0 < $1 }
        let chosen = Set(fixed + inner.prefix(max(0, maxNodes - fixed.count)))
        var keptEdges: [(source: Int, target: Int)] = []
        for t in 0..<n where pruning.nodeMask[t] { for s in 0..<n where pruning.nodeMask[s] && pruning.edgeMask[t * n + s] { keptEdges.append((s, t)) } }
        let among = keptEdges.filter { chosen.contains($0.source) && chosen.contains($0.target) }
        let strongest = among.indices.sorted {
            let (a, b) = (abs(edge(from: among[$0].source, to: among[$0].target)), abs(edge(from: among[$1].source, to: among[$1].target)))
            return a != b ? a > b : $0 < $1
        }.prefix(max(0, maxEdges)).sorted()
        return FigureSelection(nodes: chosen.sorted(), edges: strongest.map { among[$0] }, keptNodes: kept.count, keptEdges: keptEdges.count)
    }

    /// Row of node `i` in the figure: 0 the embeddings, `1 + L` layer L, `layers + 1` the logits.
    public func figureRow(_ i: Int) -> Int {
        switch layout.kind(of: i) {
        case .feature(let f): return 1 + features[f].layer
        case .error(let l, _): return 1 + l
        case .token: return 0
        case .logit: return layout.layers + 1
        }
    }

    /// Column (prompt position) of node `i` in the figure.
    public func figureColumn(_ i: Int) -> Int {
        switch layout.kind(of: i) {
        case .feature(let f): return features[f].position
        case .error(_, let p), .token(let p): return p
        case .logit: return layout.positions - 1
        }
    }

    /// The pruned graph as a layered drawing (``SVGLayeredGraph``): rows the embeddings (bottom),
    /// layers 0..L-1 and the logits (top), columns the prompt's positions labelled with its
    /// tokens; features circles, error nodes grey squares, tokens rectangles, logits diamonds;
    /// edges red when positive and blue when negative, width by |weight|. Feature nodes link to
    /// `link(i)` (nil: no link). Returns the drawing and its caption (what the cap left out).
    public func figure(pruning: GraphPruning, inputs: ReportInputs, maxNodes: Int = 120, maxEdges: Int = 400,
                       link: (Int) -> String? = { "#node-\($0)" }) -> (drawing: SVGLayeredGraph, caption: String) {
        let selection = figureSelection(pruning: pruning, maxNodes: maxNodes, maxEdges: maxEdges)
        let feature = RGB(hex: 0xf2a65a), error = RGB(hex: 0xbdbdbd), token = RGB(hex: 0x9ecae1), logit = RGB(hex: 0x74c476)
        var index: [Int: Int] = [:]
        var nodes: [SVGLayeredGraph.Node] = []
        for i in selection.nodes {
            let tooltip = nodeLabel(i, inputs: inputs) + String(format: ", influence %.4g", pruning.influence[i])
            var node = SVGLayeredGraph.Node(id: String(i), row: figureRow(i), column: figureColumn(i), shape: .circle, fill: feature, tooltip: tooltip)
            switch layout.kind(of: i) {
            case .feature(let f):
                node.tooltip += String(format: ", activation %.4g", features[f].activation)
                node.link = link(i)
            case .error: (node.shape, node.fill) = (.square, error)
            case .token: (node.shape, node.fill) = (.rectangle, token)
            case .logit(let k):
                (node.shape, node.fill) = (.diamond, logit)
                node.label = k < inputs.logitTokens.count ? inputs.logitTokens[k] : String(logitTargets.tokens[k])
            }
            index[i] = nodes.count
            nodes.append(node)
        }
        let edges = selection.edges.map { e in
            SVGLayeredGraph.Edge(source: index[e.source]!, target: index[e.target]!, weight: Double(edge(from: e.source, to: e.target)),
                                 tooltip: "\(nodeLabel(e.source, inputs: inputs)) -> \(nodeLabel(e.target, inputs: inputs)): " + String(format: "%.4g", edge(from: e.source, to: e.target)))
        }
        let rows = ["emb"] + (0..<layout.layers).map { "L\($0)" } + ["logits"]
        let columns = (0..<layout.positions).map { $0 < inputs.promptTokens.count ? inputs.promptTokens[$0] : String(replacement.tokens[$0]) }
        let drawing = SVGLayeredGraph(title: "Attribution graph: \(inputs.prompt)", rowLabels: rows, columnLabels: columns, nodes: nodes, edges: edges,
                                      legend: [(.circle, feature, "feature"), (.square, error, "error"), (.rectangle, token, "token"), (.diamond, logit, "logit")])
        var caption = "Pruned graph (node threshold \(NumberFormat.string(inputs.nodeThreshold)), edge threshold \(NumberFormat.string(inputs.edgeThreshold))): "
        caption += selection.nodes.count == selection.keptNodes
            ? "all \(selection.keptNodes) kept nodes, "
            : "\(selection.nodes.count) of \(selection.keptNodes) kept nodes (every token and logit, then the features and error nodes of largest influence), "
        caption += selection.edges.count == selection.keptEdges
            ? "all \(selection.keptEdges) kept edges between them."
            : "the \(selection.edges.count) strongest (by |weight|) of the \(selection.keptEdges) kept edges between drawn nodes."
        caption += " Rows: embeddings at the bottom, layers, logits at the top; columns: prompt positions. Hover for values; click a feature for its section."
        return (drawing, caption)
    }
}
