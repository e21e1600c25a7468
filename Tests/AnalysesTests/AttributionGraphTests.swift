import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Attribution graphs on the committed tiny Llama with random TopK skip transcoders, against
/// circuit-tracer 0.5.0 (`attribute`, `prune_graph`, `compute_graph_scores`, run once by
/// scripts/fixtures/graph/make_graph_fixtures.py, fixtures in Tests/Fixtures/graph), and
/// against interventions in Loupe's frozen replacement model.
struct AttributionGraphTests {
    static let dir = TestFiles.fixtures.appendingPathComponent("graph")

    struct Reference: Decodable {
        let prompt: String
        let ids: [Int]
        let logit_tokens: [Int]
        let logit_probabilities: [Float]
        let replacement_score: Float
        let completeness_score: Float
        let nodes: Int
        let features: Int
    }

    static func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: dir.appendingPathComponent("graph.json")))
    }

    static func npy(_ name: String) throws -> Tensor { try NumPyArray.read(path: dir.appendingPathComponent(name).path) }

    static func model() throws -> Transformer {
        try ModelLoader.load(path: TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path).transformer
    }

    static func transcoders() throws -> TranscoderSet { try TranscoderSet.load(dir.appendingPathComponent("transcoders").path) }

    static func graph(_ set: TranscoderSet? = nil, batchSize: Int = 16) throws -> AttributionGraph {
        let replacement = try LocalReplacementModel(model: try model(), transcoders: try set ?? transcoders(), tokens: try reference().ids)
        return try AttributionGraph(replacement, options: .init(batchSize: batchSize))
    }

    @Test func adjacencyPruningAndScoresMatchCircuitTracer() throws {
        let ref = try Self.reference(), g = try Self.graph()
        // Active features and their activations, in circuit-tracer's node order.
        let active = try Self.npy("active-features.npy"), acts = try Self.npy("activations.npy")
        #expect(g.features.count == ref.features)
        try #require(g.features.count == active.shape[0])
        for (i, f) in g.features.enumerated() {
            #expect([f.layer, f.position, f.feature] == (0..<3).map { Int(active.scalars[i * 3 + $0]) }, "feature \(i)")
            #expect(abs(f.activation - acts.scalars[i]) <= 1e-4 * max(1, abs(acts.scalars[i])), "activation \(i)")
        }
        #expect(g.logitTargets.tokens == ref.logit_tokens)
        for (a, b) in zip(g.logitTargets.probabilities, ref.logit_probabilities) { #expect(abs(a - b) <= 1e-5) }
        // The adjacency: within 1e-4 of the reference's largest |entry|, everywhere.
        let adjacency = try Self.npy("adjacency.npy")
        #expect(adjacency.shape == [ref.nodes, ref.nodes] && g.layout.nodes == ref.nodes)
        let scale = adjacency.scalars.reduce(Float(0)) { max($0, abs($1)) }
        let worst = TestFiles.maxAbsDiff(g.adjacency, adjacency.scalars)
        #expect(scale > 1 && worst <= 1e-4 * scale, "adjacency: max |difference| \(worst), largest |entry| \(scale)")
        #expect(g.adjacency.filter { $0 != 0 }.count > 1000, "a graph with few edges checks little")
        // Pruning: the same nodes and edges, and circuit-tracer's cumulative influence.
        let pruning = try GraphPruning(g)
        let nodeMask = try Self.npy("node-mask.npy").scalars.map { $0 != 0 }, edgeMask = try Self.npy("edge-mask.npy").scalars.map { $0 != 0 }
        #expect(pruning.nodeMask == nodeMask, "kept nodes differ at \(nodeMask.indices.filter { nodeMask[$0] != pruning.nodeMask[$0] })")
        #expect(pruning.edgeMask == edgeMask, "\(zip(pruning.edgeMask, edgeMask).filter { $0 != $1 }.count) edges kept on one side only")
        #expect(TestFiles.maxAbsDiff(pruning.cumulativeScores, try Self.npy("cumulative-scores.npy").scalars) <= 1e-4)
        let scores = try g.scores()
        #expect(abs(scores.replacement - ref.replacement_score) <= 1e-4, "replacement \(scores.replacement) vs \(ref.replacement_score)")
        #expect(abs(scores.completeness - ref.completeness_score) <= 1e-4, "completeness \(scores.completeness) vs \(ref.completeness_score)")
    }

    @Test func batchSizeDoesNotChangeTheGraph() throws {
        let one = try Self.graph(batchSize: 1), all = try Self.graph(batchSize: 1000)
        let scale = all.adjacency.reduce(Float(0)) { max($0, abs($1)) }
        #expect(TestFiles.maxAbsDiff(one.adjacency, all.adjacency) <= 1e-5 * scale)
    }

    @Test func frozenReplacementModelReproducesTheRealLogits() throws {
        let g = try Self.graph()
        let logits = FrozenForward(g.replacement).run().logits
        let scale = g.replacement.logits.reduce(Float(0)) { max($0, abs($1)) }
        #expect(TestFiles.maxAbsDiff(logits, g.replacement.logits) <= 1e-4 * scale, "against Loupe's real pass")
        // And against transformers' logits for the same tokens (independent of Loupe).
        let hf = try Self.npy("logits.npy").scalars
        #expect(TestFiles.maxAbsDiff(logits, hf) <= 1e-4 * scale, "against transformers")
    }

    /// Every edge is an intervention: removing a source's contribution in the frozen
    /// replacement model changes each target's input (a feature's pre-activation, a demeaned
    /// logit) by exactly the edge weight. All sources, all targets; with a skip term on both
    /// layers (the fixture), on layer 1 only, and on none.
    @Test(arguments: [[true, true], [false, true], [false, false]])
    func everyEdgeEqualsAnIntervention(_ skips: [Bool]) throws {
        var set = try Self.transcoders().transcoders
        for (l, keep) in skips.enumerated() where !keep { set[l].parameters.wSkip = [] }
        let g = try Self.graph(TranscoderSet(transcoders: set))
        let layout = g.layout, forward = FrozenForward(g.replacement), d = g.replacement.config.dModel
        let unembed = g.replacement.model.weights.unembed.dense().scalars, vocab = g.replacement.config.vocabSize
        let mean = (0..<d).map { j in (0..<vocab).reduce(Float(0)) { $0 + unembed[$1 * d + j] } / Float(vocab) }
        let encoders = g.features.map { g.replacement.encoderVector($0) }
        func targets(_ r: FrozenForward.Result) -> [Float] {
            var out = [Float](repeating: 0, count: layout.nodes)
            for (i, f) in g.features.enumerated() {
                out[i] = (0..<d).reduce(Float(0)) { $0 + r.mlpInputs[f.layer][f.position * d + $1] * encoders[i][$1] }
            }
            let last = layout.positions - 1
            for (k, t) in g.logitTargets.tokens.enumerated() {
                out[layout.logitNode(k)] = (0..<d).reduce(Float(0)) { $0 + r.finalNormed[last * d + $1] * (unembed[t * d + $1] - mean[$1]) }
            }
            return out
        }
        let base = targets(forward.run())
        let scale = g.adjacency.reduce(Float(0)) { max($0, abs($1)) }
        var worst: Float = 0, checked = 0
        for s in 0..<layout.sources {
            let result = forward.run(removing: s, layout: layout)
            let ablated = targets(result)
            for t in 0..<layout.nodes {
                if case .feature = layout.kind(of: t) {} else if case .logit = layout.kind(of: t) {} else { continue }
                worst = max(worst, abs((base[t] - ablated[t]) - g.edge(from: s, to: t)))
                checked += 1
            }
        }
        #expect(checked == layout.sources * (layout.features + layout.logits))
        #expect(worst <= 1e-4 * scale, "intervention vs edge: max |difference| \(worst), largest |edge| \(scale)")
    }

    /// circuit-tracer's `feature_intervention` (frozen attention, live norms and MLPs) on the
    /// fixture's two edits gives the same last-position logits.
    @Test func featureInterventionsMatchCircuitTracer() throws {
        struct Cases: Decodable { let interventions: [[[Float]]] }
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Self.dir.appendingPathComponent("graph.json"))).interventions
        let reference = try Self.npy("intervention-logits.npy")
        let g = try Self.graph(), vocab = g.replacement.config.vocabSize, n = g.layout.positions
        let intervention = FeatureIntervention(g.replacement)
        let clean = Array(g.replacement.logits[((n - 1) * vocab)..<(n * vocab)])
        try #require(reference.shape == [cases.count, vocab])
        for (i, edits) in cases.enumerated() {
            let logits = try intervention.logits(edits.map { .init(layer: Int($0[0]), position: Int($0[1]), feature: Int($0[2]), change: .set($0[3])) })
            let want = Array(reference.scalars[(i * vocab)..<((i + 1) * vocab)])
            let scale = want.reduce(Float(0)) { max($0, abs($1)) }
            #expect(TestFiles.maxAbsDiff(logits, want) <= 1e-4 * scale, "case \(i)")
            #expect(TestFiles.maxAbsDiff(want, clean) > 1e-2, "case \(i): the edit must move the logits to check anything")
        }
        // Scaling a feature by 1 changes nothing; an edit outside the dictionary is refused.
        let f = g.features.last!
        let same = try intervention.logits([.init(layer: f.layer, position: f.position, feature: f.feature, change: .scale(1))])
        #expect(TestFiles.maxAbsDiff(same, clean) <= 1e-4 * clean.reduce(Float(0)) { max($0, abs($1)) })
        #expect(throws: GraphError.self) { try intervention.logits([.init(layer: 0, position: 1, feature: 96, change: .set(1))]) }
    }

    @Test func logitTargetsFollowCumulativeProbability() throws {
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(Foundation.log($0)) }
        #expect(try LogitTargets(logits: logits, maxCount: 10, probability: 0.75).tokens == [0, 1])
        #expect(try LogitTargets(logits: logits, maxCount: 10, probability: 0.9).tokens == [0, 1, 2])
        #expect(try LogitTargets(logits: logits, maxCount: 2, probability: 0.99).tokens == [0, 1])
        #expect(try LogitTargets(logits: logits, maxCount: 10, probability: 0.4).tokens == [0])
        #expect(throws: GraphError.self) { try LogitTargets(logits: logits, maxCount: 0, probability: 0.9) }
    }

    @Test func jsonFollowsCircuitTracersSchema() throws {
        let g = try Self.graph(), pruning = try GraphPruning(g)
        let doc = GraphJSON.document(g, pruning: pruning, slug: "tiny", scan: "loupe-tiny", prompt: "The capital of",
                                     promptTokens: g.replacement.tokens.map(String.init), logitTokens: [], nodeThreshold: 0.8)
        let ids = Set(doc.nodes.map(\.node_id))
        #expect(ids.count == doc.nodes.count && !doc.links.isEmpty)
        #expect(doc.links.allSatisfy { ids.contains($0.source) && ids.contains($0.target) })
        #expect(doc.nodes.filter { $0.feature_type == "embedding" }.count == g.layout.positions)
        #expect(doc.nodes.filter { $0.feature_type == "logit" }.count == g.layout.logits)
        #expect(doc.nodes.filter { $0.is_target_logit }.map(\.node_id) == ["3_\(g.logitTargets.tokens[0])_\(g.layout.positions - 1)"])
        let json = try JSONSerialization.jsonObject(with: GraphJSON.encode(doc)) as? [String: Any]
        #expect(Set(json?.keys.map { $0 } ?? []) == ["metadata", "qParams", "nodes", "links"])
        #expect(GraphJSON.cantor(2, 3) == 18)
    }

    // MARK: - Bad input

    static func copySet(editing manifest: (inout [String: Any]) -> Void, removing: String? = nil) throws -> String {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-graph-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: dir.appendingPathComponent("transcoders").path, toPath: tmp)
        let path = tmp + "/" + TranscoderSet.manifestName
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        manifest(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        if let removing { try FileManager.default.removeItem(atPath: tmp + "/" + removing) }
        return tmp
    }

    @Test func badTranscoderSetsAndPromptsAreRefusedWithClearErrors() throws {
        let model = try Self.model(), ids = try Self.reference().ids
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        let other = try Self.copySet { $0["model"] = "SmolLM2-135M" }
        defer { try? FileManager.default.removeItem(atPath: other) }
        #expect(message { _ = try LocalReplacementModel(model: model, transcoders: try TranscoderSet.load(other), tokens: ids) }
            .contains("trained on 'SmolLM2-135M', but the model is 'llama'"))
        let missing = try Self.copySet(editing: { _ in }, removing: "layer-1")
        defer { try? FileManager.default.removeItem(atPath: missing) }
        #expect(message { _ = try TranscoderSet.load(missing) }.contains("layer 1 is listed in transcoders.json but its folder (cfg.json) is missing"))
        let gap = try Self.copySet { $0["layers"] = [0, 2] }
        defer { try? FileManager.default.removeItem(atPath: gap) }
        #expect(message { _ = try TranscoderSet.load(gap) }.contains("every layer 0..<n"))
        let hooks = try Self.copySet { $0["input_hook"] = "blocks.{L}.hook_resid_mid" }
        defer { try? FileManager.default.removeItem(atPath: hooks) }
        #expect(message { _ = try TranscoderSet.load(hooks) }.contains("field 'input_hook' is 'blocks.{L}.hook_resid_mid'"))
        // Another width, too few layers.
        let narrow = try StandardSAE(parameters: { var p = try SAEParameters(width: 32, latents: 8); p.isTranscoder = true; return p }())
        let set = try Self.transcoders()
        #expect(message { _ = try LocalReplacementModel(model: model, transcoders: TranscoderSet(transcoders: [set.transcoders[0], narrow]), tokens: ids) }
            .contains("layer 1 of the transcoder set <memory> reads rows of width 32, but the model's d_model is 64"))
        #expect(message { _ = try LocalReplacementModel(model: model, transcoders: TranscoderSet(transcoders: [set.transcoders[0]]), tokens: ids) }
            .contains("has 1 layers, but the model has 2"))
        // A prompt longer than the context, and one too short for a graph.
        let long = [Int](repeating: 5, count: model.config.contextLength + 1)
        #expect(message { _ = try LocalReplacementModel(model: model, transcoders: set, tokens: long) }
            .contains("the prompt has \(long.count) tokens, more than the model's context of \(model.config.contextLength)"))
        #expect(message { _ = try LocalReplacementModel(model: model, transcoders: set, tokens: [0]) }.contains("at least 2"))
        #expect(message { _ = try GraphPruning(try Self.graph(), nodeThreshold: 1.5) }.contains("node threshold 1.5"))
    }
}
