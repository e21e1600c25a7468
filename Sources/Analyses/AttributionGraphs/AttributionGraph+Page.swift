import Foundation
import Reporting

extension AttributionGraph {
    /// The strongest `count` edges into (`incoming`) or out of node `i` in the whole adjacency,
    /// largest |weight| first: (other node, weight).
    public func strongestEdges(of i: Int, incoming: Bool, count: Int = 6) -> [(node: Int, weight: Float)] {
        let n = layout.nodes
        let all = (0..<n).compactMap { j -> (node: Int, weight: Float)? in
            let w = incoming ? adjacency[i * n + j] : adjacency[j * n + i]
            return w == 0 ? nil : (j, w)
        }
        return Array(all.sorted { abs($0.weight) != abs($1.weight) ? abs($0.weight) > abs($1.weight) : $0.node < $1.node }.prefix(count))
    }

    /// `index.html`: the summary, the figure inlined (feature nodes link to their sections), the
    /// logits, links to the other files and one section per kept feature node (anchor
    /// `node-<i>`, strongest edges in and out, and its top contexts when `contexts` is given;
    /// otherwise `contextsHint` says how to get them).
    public func page(pruning: GraphPruning, inputs: ReportInputs, scores: (replacement: Float, completeness: Float),
                     figure: (svg: String, caption: String), contexts: GraphFeatureContexts?, contextsHint: String,
                     tokenText: ((Int) -> String)?) -> HTMLPage {
        var page = HTMLPage(title: "Attribution graph: \(inputs.prompt)", summary: summary(pruning: pruning, inputs: inputs, scores: scores).rendered(),
                            command: inputs.command)
        page.append(.inlineSVG(figure.svg, caption: figure.caption))
        page.append(.heading("Logits"))
        page.append(.table(header: ["logit", "token", "id", "probability"], rows: logitTargets.tokens.enumerated().map { k, t in
            [String(k), TokenLabel.display(k < inputs.logitTokens.count ? inputs.logitTokens[k] : String(t)), String(t),
             NumberFormat.string(logitTargets.probabilities[k])]
        }))
        page.append(.heading("Files"))
        for (file, text) in [("graph.svg", "graph.svg: the figure alone"), ("nodes.csv", "nodes.csv: every node"), ("edges.csv", "edges.csv: the kept edges"),
                             ("\(inputs.slug).json", "\(inputs.slug).json: circuit-tracer's frontend format"), ("summary.txt", "summary.txt")] {
            page.append(.link(file: file, text: text))
        }
        let kept = features.indices.filter { pruning.nodeMask[$0] }
            .sorted { pruning.influence[$0] != pruning.influence[$1] ? pruning.influence[$0] > pruning.influence[$1] : $0 < $1 }
        page.append(.heading("Features (\(kept.count) kept, by influence)"))
        page.append(.paragraph(contexts.map { "Top-activating contexts from \($0.source), token marked." } ?? contextsHint))
        let edgeRows = { (list: [(node: Int, weight: Float)], t: Int, incoming: Bool) -> [[String]] in
            list.map { e in
                let (s, tt) = incoming ? (e.node, t) : (t, e.node)
                return [self.nodeLabel(e.node, inputs: inputs), NumberFormat.string(e.weight),
                        pruning.edgeMask[tt * self.layout.nodes + s] && pruning.nodeMask[s] && pruning.nodeMask[tt] ? "yes" : "no"]
            }
        }
        for i in kept {
            let f = features[i]
            page.append(.anchoredHeading(nodeLabel(i, inputs: inputs), id: "node-\(i)"))
            page.append(.table(header: ["node", "layer", "position", "latent", "activation", "influence", "cumulative influence"],
                               rows: [[String(i), String(f.layer), String(f.position), String(f.feature), NumberFormat.string(f.activation),
                                       NumberFormat.string(pruning.influence[i]), NumberFormat.string(pruning.cumulativeScores[i])]]))
            page.append(.table(header: ["strongest incoming edges", "weight", "kept"], rows: edgeRows(strongestEdges(of: i, incoming: true), i, true)))
            page.append(.table(header: ["strongest outgoing edges", "weight", "kept"], rows: edgeRows(strongestEdges(of: i, incoming: false), i, false)))
            guard let contexts else { continue }
            guard let stats = contexts.byLayer[f.layer] else { continue }
            let top = contexts.top(f)
            if top.isEmpty {
                page.append(.paragraph("Latent \(f.feature) did not fire on the \(stats.rows) rows of \(contexts.source)."))
                continue
            }
            page.append(.markedLines(top.map { o in
                let label = NumberFormat.string(o.value)
                guard let c = stats.context(of: o, tokenText: tokenText) else {
                    return .init(label: label, before: "prompt \(o.prompt) position \(o.position) ", marked: "#\(o.token)", after: "")
                }
                return .init(label: label, before: c.before, marked: c.token, after: c.after)
            }))
        }
        return page
    }
}
