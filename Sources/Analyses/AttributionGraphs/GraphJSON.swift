import Foundation

/// The pruned graph in the JSON schema of circuit-tracer's local frontend and Neuronpedia
/// (`circuit_tracer/frontend/graph_models.py`, written by `create_graph_files`): `metadata`
/// (slug, scan, prompt and its tokens, node threshold, schema version 1), `qParams`, `nodes`
/// and `links` (`source`, `target`, `weight`). Node ids: feature `L_F_P`, error `0_L_P`, token
/// `E_T_P`, logit `(layers+1)_T_P`; a feature's `feature` is the Cantor pairing of layer and
/// index, its `feature_type` `cross layer transcoder` as circuit-tracer writes it for
/// per-layer transcoders too. Only nodes on a kept edge (and all tokens and logits) are listed.
/// `metadata.bos` (Loupe's addition, ignored by the viewers) records `loupe graph --bos`.
public enum GraphJSON {
    public struct Metadata: Codable, Sendable {
        public var slug: String
        public var scan: String
        public var transcoder_list: [String]
        public var prompt_tokens: [String]
        public var prompt: String
        public var node_threshold: Float
        public var schema_version: Int
        /// Loupe's addition: whether a BOS token was prepended (`prepend`, `none`, `auto (...)`; `loupe graph --bos`).
        public var bos: String?
    }

    public struct QParams: Codable, Sendable {
        public var pinnedIds: [String] = []
        public var supernodes: [[String]] = []
        public var linkType = "both"
        public var clickedId = ""
        public var sg_pos = ""
    }

    public struct Node: Codable, Sendable {
        public var node_id: String
        public var feature: Int
        public var layer: String
        public var ctx_idx: Int
        public var feature_type: String
        public var token_prob: Float = 0
        public var is_target_logit = false
        public var run_idx = 0
        public var reverse_ctx_idx = 0
        public var jsNodeId: String
        public var clerp = ""
        public var influence: Float?
        public var activation: Float?
    }

    public struct Link: Codable, Sendable {
        public var source: String
        public var target: String
        public var weight: Float
    }

    public struct Document: Codable, Sendable {
        public var metadata: Metadata
        public var qParams: QParams
        public var nodes: [Node]
        public var links: [Link]
    }

    /// The document for `graph` pruned by `pruning`. `promptTokens` and `logitTokens` are the
    /// decoded texts of the prompt's tokens and of the logit targets.
    public static func document(_ graph: AttributionGraph, pruning: GraphPruning, slug: String, scan: String,
                                prompt: String, promptTokens: [String], logitTokens: [String], nodeThreshold: Float,
                                bos: String? = nil) -> Document {
        let layout = graph.layout, layers = layout.layers
        var nodes: [Int: Node] = [:]
        for i in 0..<layout.nodes where pruning.nodeMask[i] {
            let influence = pruning.cumulativeScores[i]
            switch layout.kind(of: i) {
            case .feature(let f):
                let a = graph.features[f]
                nodes[i] = Node(node_id: "\(a.layer)_\(a.feature)_\(a.position)", feature: cantor(a.layer, a.feature), layer: String(a.layer),
                                ctx_idx: a.position, feature_type: "cross layer transcoder", jsNodeId: "\(a.layer)_\(a.feature)-0",
                                influence: influence, activation: a.activation)
            case .error(let l, let p):
                nodes[i] = Node(node_id: "0_\(l)_\(p)", feature: -1, layer: String(l), ctx_idx: p, feature_type: "mlp reconstruction error",
                                jsNodeId: "\(l)_\(p)-0", influence: influence)
            case .token(let p):
                let t = graph.replacement.tokens[p]
                nodes[i] = Node(node_id: "E_\(t)_\(p)", feature: p, layer: "E", ctx_idx: p, feature_type: "embedding", jsNodeId: "E_\(t)-\(p)",
                                influence: influence)
            case .logit(let k):
                let t = graph.logitTargets.tokens[k], prob = graph.logitTargets.probabilities[k], pos = layout.positions - 1
                nodes[i] = Node(node_id: "\(layers + 1)_\(t)_\(pos)", feature: t, layer: String(layers + 1), ctx_idx: pos, feature_type: "logit",
                                token_prob: prob, is_target_logit: k == 0, jsNodeId: "L_\(t)-\(pos)",
                                clerp: "Output \"\(k < logitTokens.count ? logitTokens[k] : String(t))\" (p=\(String(format: "%.3f", prob)))")
            }
        }
        var links: [Link] = [], connected = Set<String>()
        for t in 0..<layout.nodes { for s in 0..<layout.nodes where pruning.edgeMask[t * layout.nodes + s] {
            guard let source = nodes[s], let target = nodes[t] else { continue }
            links.append(Link(source: source.node_id, target: target.node_id, weight: graph.adjacency[t * layout.nodes + s]))
            connected.insert(source.node_id)
            connected.insert(target.node_id)
        } }
        let used = nodes.keys.sorted().compactMap { nodes[$0] }.filter { connected.contains($0.node_id) || $0.feature_type == "embedding" || $0.feature_type == "logit" }
        let meta = Metadata(slug: slug, scan: scan, transcoder_list: [], prompt_tokens: promptTokens, prompt: prompt,
                            node_threshold: nodeThreshold, schema_version: 1, bos: bos)
        return Document(metadata: meta, qParams: QParams(), nodes: used, links: links)
    }

    /// Cantor pairing `(x + y)(x + y + 1)/2 + y`, the frontend's feature id of (layer, index).
    public static func cantor(_ x: Int, _ y: Int) -> Int { (x + y) * (x + y + 1) / 2 + y }

    /// Encodes `document` (pretty-printed, keys in schema order).
    public static func encode(_ document: Document) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }
}
