import Analyses
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Linalg
import LoupeTestSupport
import Models
import Reporting
import Testing

/// The graph's picture, its page, its features' contexts and interventions with attention
/// recomputed, on the committed tiny Llama and random transcoder set (Tests/Fixtures/graph).
struct AttributionGraphReportTests {
    typealias Ref = AttributionGraphTests

    static func inputs(_ g: AttributionGraph) -> AttributionGraph.ReportInputs {
        .init(prompt: "The capital of", promptTokens: g.replacement.tokens.map { "t\($0)" }, logitTokens: g.logitTargets.tokens.map { "l\($0)" },
              slug: "tiny", scan: "loupe-tiny", nodeThreshold: 0.8, edgeThreshold: 0.98)
    }

    /// A drawn node read back from the SVG.
    struct DrawnNode { let node: Int; let row: Int; let column: Int; let x: Double; let y: Double }

    static func drawnNodes(_ svg: String) throws -> [DrawnNode] {
        let pattern = try NSRegularExpression(pattern: #"<g class="node" data-node="(\d+)" data-row="(\d+)" data-column="(\d+)" transform="translate\(([-\d.]+),([-\d.]+)\)">"#)
        let ns = svg as NSString
        return pattern.matches(in: svg, range: NSRange(location: 0, length: ns.length)).map { m in
            let s = (1...5).map { ns.substring(with: m.range(at: $0)) }
            return DrawnNode(node: Int(s[0])!, row: Int(s[1])!, column: Int(s[2])!, x: Double(s[3])!, y: Double(s[4])!)
        }
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// Whether `markup` parses as XML (the report pages and figures are well-formed XML).
    static func wellFormed(_ markup: String) -> Bool { XMLParser(data: Data(markup.utf8)).parse() }

    @Test func figureDrawsTheKeptNodesByLayerAndPosition() throws {
        let g = try Ref.graph(), pruning = try GraphPruning(g), layout = g.layout
        let kept = (0..<layout.nodes).filter { pruning.nodeMask[$0] }
        let (drawing, caption) = g.figure(pruning: pruning, inputs: Self.inputs(g))
        let svg = drawing.svg()
        let nodes = try Self.drawnNodes(svg)
        // Below the cap: exactly the kept nodes, each once.
        #expect(kept.count == 31 && nodes.map(\.node) == kept, "kept \(kept.count), drawn \(nodes.count)")
        #expect(caption.contains("all 31 kept nodes"))
        // Rows: embeddings 0, layer L at L + 1, logits at the top; columns: positions.
        for n in nodes {
            let (row, column): (Int, Int)
            switch layout.kind(of: n.node) {
            case .feature(let f): (row, column) = (1 + g.features[f].layer, g.features[f].position)
            case .error(let l, let p): (row, column) = (1 + l, p)
            case .token(let p): (row, column) = (0, p)
            case .logit: (row, column) = (layout.layers + 1, layout.positions - 1)
            }
            #expect(n.row == row && n.column == column, "node \(n.node)")
        }
        // Coordinates follow them: a higher row is higher up (smaller y), one row one y; a
        // later column is further right.
        for a in nodes { for b in nodes {
            if a.row < b.row { #expect(a.y > b.y) }
            if a.row == b.row { #expect(a.y == b.y) }
            if a.column < b.column { #expect(a.x < b.x, "nodes \(a.node) and \(b.node)") }
        } }
        // Edges: the kept ones between kept nodes, each between drawn nodes; links on features only.
        var keptEdges = 0
        for t in kept { for s in kept where pruning.edgeMask[t * layout.nodes + s] { keptEdges += 1 } }
        #expect(Self.count("<line class=\"edge\"", in: svg) == keptEdges && keptEdges == 257)
        #expect(Self.count("<a href=\"#node-", in: svg) == kept.filter { $0 < layout.features }.count)
        #expect(drawing.svg() == svg, "the same graph draws the same bytes")
        #expect(Self.wellFormed(svg))
    }

    @Test func figureCapKeepsTokensLogitsAndTheMostInfluentialNodes() throws {
        let g = try Ref.graph(), pruning = try GraphPruning(g), layout = g.layout
        let (drawing, caption) = g.figure(pruning: pruning, inputs: Self.inputs(g), maxNodes: 20, maxEdges: 5)
        let svg = drawing.svg(), nodes = try Self.drawnNodes(svg).map(\.node)
        #expect(nodes.count == 20)
        let fixed = Array(layout.tokenOffset..<layout.nodes)
        #expect(fixed.count == 18 && fixed.allSatisfy(nodes.contains))
        // The other two: the kept feature or error nodes of largest influence.
        let inner = (0..<layout.tokenOffset).filter { pruning.nodeMask[$0] }.sorted { pruning.influence[$0] > pruning.influence[$1] }
        #expect(Set(nodes.filter { $0 < layout.tokenOffset }) == Set(inner.prefix(2)))
        // Five edges, the strongest between drawn nodes.
        #expect(Self.count("<line class=\"edge\"", in: svg) == 5)
        var among: [Float] = []
        for t in nodes { for s in nodes where pruning.edgeMask[t * layout.nodes + s] { among.append(abs(g.edge(from: s, to: t))) } }
        let fifth = among.sorted(by: >)[4]
        let selection = g.figureSelection(pruning: pruning, maxNodes: 20, maxEdges: 5)
        #expect(selection.edges.allSatisfy { abs(g.edge(from: $0.source, to: $0.target)) >= fifth })
        #expect(caption.contains("20 of 31 kept nodes") && caption.contains("5 strongest"))
    }

    @Test func pageLinksEveryDrawnFeatureToItsSection() throws {
        let g = try Ref.graph(), pruning = try GraphPruning(g), inputs = Self.inputs(g)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-graph-page-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try g.writeReport(to: dir, pruning: pruning, inputs: inputs, scores: try g.scores()).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(files.contains("graph.svg") && files.contains("index.html"))
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        let file = try String(contentsOfFile: dir + "/graph.svg", encoding: .utf8)
        let keptFeatures = g.features.indices.filter { pruning.nodeMask[$0] }
        #expect(!keptFeatures.isEmpty)
        for i in keptFeatures {
            #expect(html.contains("<h3 id=\"node-\(i)\">"), "section of node \(i)")
            #expect(html.contains("href=\"#node-\(i)\""), "inline link of node \(i)")
            #expect(file.contains("href=\"index.html#node-\(i)\""), "graph.svg link of node \(i)")
        }
        #expect(Self.count("<h3 id=\"node-", in: html) == keptFeatures.count)
        #expect(html.contains("rerun with --store STORE"), "without contexts the page says how to get them")
        #expect(html.contains("strongest incoming edges") && html.contains("strongest outgoing edges"))
        #expect(Self.wellFormed(html))
    }

    /// The strongest edges a section lists are the largest |entries| of the node's adjacency row and column.
    @Test func strongestEdgesAreTheLargestEntries() throws {
        let g = try Ref.graph(), n = g.layout.nodes
        let i = g.features.indices.last!
        let incoming = g.strongestEdges(of: i, incoming: true, count: 3)
        let row = (0..<n).map { abs(g.adjacency[i * n + $0]) }.sorted(by: >)
        #expect(incoming.map { abs($0.weight) } == Array(row.prefix(3)))
        let outgoing = g.strongestEdges(of: i, incoming: false, count: 3)
        let column = (0..<n).map { abs(g.adjacency[$0 * n + i]) }.filter { $0 > 0 }.sorted(by: >)
        #expect(outgoing.map { abs($0.weight) } == Array(column.prefix(3)))
    }

    /// The contexts from live corpus windows: each kept feature's top activation is the largest
    /// value its transcoder gives over the windows' positions 1..., computed here by a plain
    /// forward pass and encoding.
    @Test func liveContextsHoldEachFeaturesLargestActivations() throws {
        let g = try Ref.graph(), pruning = try GraphPruning(g), model = g.replacement.model
        var rng = SeededRandom(seed: 7)
        let windows = (0..<6).map { _ in [0] + (0..<11).map { _ in 1 + Int(rng.next() % UInt64(model.config.vocabSize - 1)) } }
        let contexts = try GraphFeatureContexts.live(g, pruning: pruning, windows: windows, topCount: 3)
        let kept = g.features.indices.filter { pruning.nodeMask[$0] }.map { g.features[$0] }
        #expect(Set(contexts.byLayer.keys) == Set(kept.map(\.layer)))
        for layer in Set(kept.map(\.layer)) {
            let cache = ActivationCache()
            var hooks = HookSet()
            hooks.capture([.mlpIn(layer)], into: cache)
            _ = try model.forward(windows, hooks: hooks, logits: .none)
            let tc = g.replacement.transcoders.transcoders[layer]
            var best: [Int: [Float]] = [:]
            for s in windows.indices {
                let x = cache.tensor(.mlpIn(layer), sequence: s)!
                let codes = try tc.encode(x).scalars, m = tc.latents
                for f in kept where f.layer == layer {
                    best[f.feature, default: []] += (1..<windows[s].count).map { codes[$0 * m + f.feature] }.filter { $0 > 0 }
                }
            }
            for f in kept where f.layer == layer {
                let want = (best[f.feature] ?? []).sorted(by: >).prefix(3)
                let got = contexts.top(f)
                #expect(got.count == want.count, "L\(layer) #\(f.feature)")
                for (o, v) in zip(got, want) { #expect(abs(o.value - v) <= 1e-4 * max(1, abs(v)), "L\(layer) #\(f.feature)") }
                for o in got { #expect(o.position > 0 && windows[o.prompt][o.position] == o.token) }
            }
        }
        // Untracked latents keep no lists.
        let layer = kept[0].layer, tracked = Set(kept.filter { $0.layer == layer }.map(\.feature))
        #expect(contexts.byLayer[layer]!.top.indices.filter { !tracked.contains($0) }.allSatisfy { contexts.byLayer[layer]!.top[$0].isEmpty })
    }

    /// circuit-tracer's `feature_intervention(..., freeze_attention=False)` on the fixture's two
    /// edits gives the same last-position logits; they differ from the frozen ones.
    @Test func interventionsWithAttentionRecomputedMatchCircuitTracer() throws {
        struct Cases: Decodable { let interventions: [[[Float]]] }
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Ref.dir.appendingPathComponent("graph.json"))).interventions
        let reference = try Ref.npy("intervention-logits-recomputed.npy"), frozen = try Ref.npy("intervention-logits.npy")
        let g = try Ref.graph(), vocab = g.replacement.config.vocabSize
        let intervention = FeatureIntervention(g.replacement)
        try #require(reference.shape == [cases.count, vocab] && cases.count == 2)
        for (i, edits) in cases.enumerated() {
            let logits = try intervention.logits(edits.map { .init(layer: Int($0[0]), position: Int($0[1]), feature: Int($0[2]), change: .set($0[3])) },
                                                 freezeAttention: false)
            let want = Array(reference.scalars[(i * vocab)..<((i + 1) * vocab)])
            let scale = want.reduce(Float(0)) { max($0, abs($1)) }
            #expect(TestFiles.maxAbsDiff(logits, want) <= 1e-4 * scale, "case \(i)")
            let frozenCase = Array(frozen.scalars[(i * vocab)..<((i + 1) * vocab)])
            #expect(TestFiles.maxAbsDiff(want, frozenCase) > 1e-2, "case \(i): recomputing attention must change the logits to check anything")
        }
    }

    /// The page holds exactly its blocks' text: every cell of the logits table and of each kept
    /// feature's three tables parsed back from the markup in order, with no element styled
    /// inline (the styles are in the page's one `<style>` block).
    @Test func pageHoldsEveryCellOfItsSectionsWithoutInlineStyles() throws {
        let g = try Ref.graph(), pruning = try GraphPruning(g), inputs = Self.inputs(g)
        let inline = g.figure(pruning: pruning, inputs: inputs, maxNodes: 120, maxEdges: 400)
        let page = g.page(pruning: pruning, inputs: inputs, scores: try g.scores(), figure: (inline.drawing.svg(), inline.caption),
                          contexts: nil, contextsHint: "hint", tokenText: nil)
        let cells = page.blocks.flatMap { block -> [String] in
            guard case .table(let header, let rows) = block else { return [] }
            return header + rows.flatMap { $0 }
        }
        let kept = g.features.indices.filter { pruning.nodeMask[$0] }.count
        #expect(cells.count >= 4 + kept * (7 + 7 + 6), "the logits table and each kept feature's tables")
        let html = page.rendered()
        let collector = CellCollector(), parser = XMLParser(data: Data(html.utf8))
        parser.delegate = collector
        #expect(parser.parse())
        #expect(collector.cells == cells)
        #expect(collector.styledBodyElements == 0, "elements with a style attribute outside the SVG")
    }

    /// The text of every `th`/`td` in order, and how many HTML elements outside an `<svg>` carry a `style` attribute.
    final class CellCollector: NSObject, XMLParserDelegate {
        var cells: [String] = [], styledBodyElements = 0
        private var current: String?, svgDepth = 0
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "svg" { svgDepth += 1 }
            if svgDepth == 0 && attributes["style"] != nil { styledBodyElements += 1 }
            if name == "th" || name == "td" { current = "" }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "svg" { svgDepth -= 1 }
            if (name == "th" || name == "td"), let c = current { cells.append(c); current = nil }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
    }

    /// The graph's prediction of an edit (``FeatureIntervention/frozenLogits(_:)``): each
    /// demeaned logit moves by the edited feature's edge into that logit node times its relative
    /// change (-1 when set to 0, -0.5 when halved), and an inactive feature has no prediction.
    @Test func frozenLogitsMoveByTheGraphsEdges() throws {
        let g = try Ref.graph(), layout = g.layout, intervention = FeatureIntervention(g.replacement)
        let vocab = g.replacement.config.vocabSize, n = layout.positions
        let base = Array(g.replacement.logits[((n - 1) * vocab)..<(n * vocab)])
        func demeaned(_ row: [Float]) -> [Double] {
            let mean = row.reduce(0.0) { $0 + Double($1) } / Double(vocab)
            return g.logitTargets.tokens.map { Double(row[$0]) - mean }
        }
        let scale = Double(g.adjacency.reduce(Float(0)) { max($0, abs($1)) })
        let top = layout.logitNode(0)
        let f = (0..<layout.features).max { abs(g.edge(from: $0, to: top)) < abs(g.edge(from: $1, to: top)) }!
        let a = g.features[f]
        #expect(g.edge(from: f, to: top) != 0)
        for (change, factor) in [(FeatureIntervention.Edit.Change.set(0), -1.0), (.scale(0.5), -0.5), (.set(3 * a.activation), 2.0)] {
            let edited = try #require(intervention.frozenLogits([.init(layer: a.layer, position: a.position, feature: a.feature, change: change)]))
            for (k, (after, before)) in zip(demeaned(edited), demeaned(base)).enumerated() {
                let edge = Double(g.edge(from: f, to: layout.logitNode(k)))
                #expect(abs((after - before) - factor * edge) <= 1e-4 * scale, "\(change), logit \(k): moved \(after - before), edge \(edge)")
            }
        }
        let inactive = (0..<g.replacement.transcoders.transcoders[a.layer].latents).first { i in
            !g.features.contains { $0.layer == a.layer && $0.position == a.position && $0.feature == i }
        }!
        #expect(intervention.frozenLogits([.init(layer: a.layer, position: a.position, feature: inactive, change: .set(1))]) == nil)
    }

    /// The feature chain into the top logit: each feature is the largest positive feature edge
    /// into the next node, the chain starts at a token or error node once a node has no
    /// positive feature input, and summary.txt prints it.
    @Test func featureChainFollowsTheLargestFeatureEdges() throws {
        let g = try Ref.graph(), layout = g.layout
        let chain = GraphPath.featureChain(in: g)
        #expect(chain.nodes.last == layout.logitNode(0) && chain.weights.count == chain.nodes.count - 1 && chain.nodes.count >= 3)
        let features = 0..<layout.features
        for (i, (s, t)) in zip(chain.nodes, chain.nodes.dropFirst()).enumerated() {
            #expect(chain.weights[i] == g.edge(from: s, to: t) && chain.weights[i] > 0)
            let best = features.map { g.edge(from: $0, to: t) }.max()!
            if features.contains(s) { #expect(g.edge(from: s, to: t) == best) } else { #expect(best <= 0, "a feature feeds node \(t)") }
        }
        #expect(!features.contains(chain.nodes[0]), "the chain starts at a token or error node")
        let summary = g.summary(pruning: try GraphPruning(g), inputs: Self.inputs(g), scores: try g.scores()).rendered()
        #expect(summary.contains("Feature chain into the top logit") && summary.contains(g.nodeLabel(chain.nodes[1], inputs: Self.inputs(g))))
        let top = g.strongestEdges(of: layout.logitNode(0), incoming: true, count: 8)
        #expect(top.count == 8 && summary.contains("Largest direct inputs to the top logit"))
        // SummaryText wraps sentences, which folds the two spaces after the weight into one.
        #expect(summary.contains(NumberFormat.string(top[0].weight) + " " + g.nodeLabel(top[0].node, inputs: Self.inputs(g))))
    }
}
