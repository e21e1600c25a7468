import Analyses
import ArgumentParser
import Foundation
import Models

extension Loupe {
    /// `loupe graph intervene`: set or scale transcoder features and report the logits' change.
    struct GraphIntervene: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "intervene",
            abstract: "Set or scale transcoder features in the prompt's forward pass and report how the next-token probabilities change.",
            discussion: """
            Tests a graph's claims as circuit-tracer's feature_intervention does: the real \
            forward pass runs with norms and MLPs live, and at each edited layer the edited \
            features' decoder rows times (new value - current activation, the transcoder \
            encoding the current MLP input) are added to the MLP output. By default the \
            prompt's attention patterns are frozen (freeze_attention=True); \
            --recompute-attention freezes nothing (freeze_attention=False): every later \
            layer's attention patterns are recomputed from the edited residual stream, so the \
            edit also acts through attention (norm scales follow the edited stream in both \
            modes, as in circuit-tracer). --set L:P:F=V sets feature F of layer L's \
            transcoder at position P to V; --scale L:P:F=S multiplies its activation in the \
            unedited pass by S (both repeatable; positions count the prepended BOS as 0, as in \
            the graph's nodes.csv; --bos as for `graph build`, prepend by default: give the \
            graph's). Prints the --top (10) tokens of the unedited pass with their probabilities \
            before, as the graph predicts (p graph: the frozen replacement model with the edited \
            features changed and everything else held, the attention patterns, norm scales, \
            error nodes and other features, so each logit moves by the edited features' direct \
            edges into it; n/a when an edited feature is not active there) and after the \
            intervention (later features and MLPs respond), and the edited pass's top token.

            Example: loupe graph intervene --prompt "The Eiffel Tower is located in the city of" --transcoders DIR --scale 12:9:1033=0 \
            --recompute-attention --bos prepend
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The prompt.") var prompt: String
        @Option(help: "Transcoder set folder (transcoders.json + layer-<L>/).") var transcoders: String
        @Option(help: "BOS token first: prepend, none or auto (as for `graph build`; give the graph's).") var bos: GraphBOS = .prepend
        @Option(name: .customLong("set"), help: "L:P:F=V: set feature F of layer L at position P to V (repeatable).") var sets: [String] = []
        @Option(name: .customLong("scale"), help: "L:P:F=S: multiply that feature's activation by S (repeatable).") var scales: [String] = []
        @Option(help: "Tokens shown.") var top = 10
        @Flag(help: "Recompute attention patterns from the edited stream (default: the prompt's patterns frozen).")
        var recomputeAttention = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        /// `L:P:F=V` into an edit.
        static func edit(_ text: String, scale: Bool) throws -> FeatureIntervention.Edit {
            let parts = text.split(separator: "=", maxSplits: 1)
            let where_ = parts.first.map { $0.split(separator: ":").map { Int($0) } } ?? []
            guard parts.count == 2, where_.count == 3, where_.allSatisfy({ $0 != nil }), let v = Float(parts[1]), v.isFinite else {
                throw ValidationError("'\(text)' is not L:P:F=VALUE (layer, position, feature, a number)")
            }
            return .init(layer: where_[0]!, position: where_[1]!, feature: where_[2]!, change: scale ? .scale(v) : .set(v))
        }

        func validate() throws {
            if sets.isEmpty && scales.isEmpty { throw ValidationError("give at least one --set or --scale") }
            for s in sets { _ = try Self.edit(s, scale: false) }
            for s in scales { _ = try Self.edit(s, scale: true) }
            if top < 1 { throw ValidationError("--top must be at least 1, not \(top)") }
        }

        /// What `--format json` prints: per shown token, its probability before and after.
        struct Output: Encodable {
            let prompt: String
            let edits: [String]
            let attention: String
            let tokens: [Row]
            let topAfter: Row
            /// `graph`: the graph's prediction (frozen replacement model), nil when an edit is not a node.
            struct Row: Encodable { let token: String; let id: Int; let before: Float; let graph: Float?; let after: Float }
        }

        func run() throws {
            let m = try modelOptions.load()
            let ids = try GraphPrompt.tokens(prompt, tokenizer: m.tokenizer, bos: bos)
            let replacement = try LocalReplacementModel(model: m.transformer, transcoders: try TranscoderSet.load(transcoders), tokens: ids)
            let edits = try sets.map { try Self.edit($0, scale: false) } + scales.map { try Self.edit($0, scale: true) }
            let after = try FeatureIntervention(replacement).logits(edits, freezeAttention: !recomputeAttention)
            let predicted = FeatureIntervention(replacement).frozenLogits(edits).map(softmax)
            let vocab = m.config.vocabSize
            let before = Array(replacement.logits[((ids.count - 1) * vocab)..<(ids.count * vocab)])
            let (p0, p1) = (softmax(before), softmax(after))
            func row(_ t: Int) -> Output.Row { .init(token: m.tokenizer.tokenString(t), id: t, before: p0[t], graph: predicted?[t], after: p1[t]) }
            let shown = p0.indices.sorted { p0[$0] > p0[$1] }.prefix(top).map(row)
            let best = row(p1.indices.max { p1[$0] < p1[$1] } ?? 0)
            if format == .json { return try Console.json(Output(prompt: prompt, edits: sets + scales, attention: recomputeAttention ? "recomputed" : "frozen",
                                                                  tokens: shown, topAfter: best)) }
            Console.out("attention \(recomputeAttention ? "recomputed from the edited stream" : "patterns frozen")")
            Console.out("token                 p before   p graph   p after")
            for r in shown {
                let graph = r.graph.map { String(format: "%8.4f", $0) } ?? "     n/a"
                Console.out("\("'\(r.token)'".padding(toLength: 20, withPad: " ", startingAt: 0))  \(String(format: "%8.4f", r.before))  \(graph)  \(String(format: "%8.4f", r.after))")
            }
            Console.out("top token after the edits: '\(best.token)' p = \(String(format: "%.4f", best.after)) (was \(String(format: "%.4f", best.before)))")
        }
    }
}
