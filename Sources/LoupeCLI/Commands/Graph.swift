import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension GraphBOS: ExpressibleByArgument {}

extension Loupe {
    /// `loupe graph`: attribution graphs (build, the default, and intervene).
    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attribution graphs through a transcoder per MLP: build one (the default), test it with interventions.",
            discussion: """
            `loupe graph --prompt P --transcoders DIR` runs `graph build`; `loupe graph build --help` \
            explains its options, defaults and output, `loupe graph intervene --help` the edits.
            """,
            subcommands: [GraphBuild.self, GraphIntervene.self], defaultSubcommand: GraphBuild.self)
    }

    /// `loupe graph [build]`: an attribution graph of one prompt through a transcoder per MLP.
    struct GraphBuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Attribution graph: which transcoder features, through which paths, produce the next token (circuit tracing).",
            discussion: """
            Replaces every MLP by its transcoder (--transcoders DIR: transcoders.json plus one \
            SAELens folder layer-<L>/ per layer, reading blocks.L.mlp.hook_in and writing \
            blocks.L.hook_mlp_out), freezes the prompt's attention patterns and norm scales, and \
            computes the direct linear effect of every active feature, error node (real MLP output \
            minus the transcoder's) and input token on every feature's pre-activation and on the \
            output logits, as circuit-tracer does (Ameisen et al. 2025). The logits are the most \
            probable next tokens until their probabilities sum to --logit-probability (0.95), at \
            most --max-logits (10). The graph is pruned by influence on those logits: the nodes \
            carrying --node-threshold (0.8) of it, then the edges carrying --edge-threshold (0.98). \
            --bos (prepend) says whether a BOS token starts the prompt: prepend (BOS, else EOS or \
            PAD, unless the prompt starts with a special token: circuit-tracer's behaviour and \
            the default, so graphs compare with circuit-tracer's and Neuronpedia's), none (the \
            prompt's own tokens) or auto (what the tokenizer's config says, add_bos_token). \
            Position 0 has no feature or error nodes, so with none the first token has only its \
            token node; but a model that was not trained with BOS may answer differently with \
            it (SmolLM2: p(' Paris') 0.30 with BOS, 0.70 without), and none or auto graphs the \
            model's own prediction. The choice is in summary.txt and the JSON's metadata.bos. \
            --batch-size (256) targets share one backward pass \
            (memory about 3 x batch x tokens x d_model floats).

            Writes --out-dir (default reports/graph-<prompt>): <slug>.json in circuit-tracer's \
            frontend schema (with graph-metadata.json), nodes.csv, edges.csv, summary.txt \
            (replacement and completeness scores, logits, strongest token-to-answer paths), \
            graph.svg and index.html. graph.svg draws the pruned graph: rows the embeddings \
            (bottom), layers 0..L-1 and the logits (top), columns the prompt's tokens; features \
            are circles, error nodes squares, tokens rectangles, logits diamonds; edges red when \
            positive, blue when negative, wider when stronger. At most --figure-nodes (120) nodes \
            (every token and logit, then the most influential features and error nodes) and \
            --figure-edges (400) edges are drawn; the caption says what was left out. \
            index.html holds the figure (click a feature for its section), the logits and one \
            section per kept feature: layer, position, activation, influence, its strongest \
            incoming and outgoing edges and, with --store or --corpus, its --top-contexts (10) \
            top-activating contexts (the `loupe sae features` pass over each needed layer's \
            transcoder, tracking only the graph's features).

            Contexts: --store STORE [--capture ID] reads blocks.L.mlp.hook_in rows of a \
            `loupe capture` store (capture them with --hooks 'blocks.*.mlp.hook_in'); --corpus \
            FILE --context N [--max-tokens T] (default 16384) runs the leading N-token windows of \
            a corpus (.jsonl with "text", or .txt; cut as `loupe capture --corpus` cuts them, no \
            BOS added) through the model instead, nothing stored. Position 0 \
            and rows above 10x the median norm are left out, as in training.

            Example: loupe graph --prompt "The Eiffel Tower is located in the city of" --transcoders transcoders/smollm2 \
            --bos auto --corpus corpus.jsonl --context 64 --max-tokens 8192
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The prompt.") var prompt: String
        @Option(help: "Transcoder set folder (transcoders.json + layer-<L>/).") var transcoders: String
        @Option(help: "BOS token first: prepend (circuit-tracer's), none (the prompt's own tokens) or auto (the tokenizer's add_bos_token).")
        var bos: GraphBOS = .prepend
        @Option(help: "Keep the nodes carrying this share of the influence on the logits.") var nodeThreshold: Float = 0.8
        @Option(help: "Keep the edges carrying this share of the edge influence.") var edgeThreshold: Float = 0.98
        @Option(help: "At most this many logit nodes.") var maxLogits = 10
        @Option(help: "Logit nodes until their probabilities sum to this.") var logitProbability: Float = 0.95
        @Option(help: "Targets per backward pass.") var batchSize = 256
        @Option(help: "Report folder (default: reports/graph-<prompt>).") var outDir: String?
        @Option(help: "Most nodes drawn in graph.svg (tokens and logits first, then by influence).") var figureNodes = 120
        @Option(help: "Most edges drawn in graph.svg (largest |weight| first).") var figureEdges = 400
        @Option(help: "Store with blocks.L.mlp.hook_in rows, for the features' top contexts.") var store: String?
        @Option(help: "Capture id in --store (default: the only one).") var capture: Int64?
        @Option(help: "Corpus file (.jsonl or .txt) run live for the features' top contexts.") var corpus: String?
        @Option(help: "Tokens per --corpus window.") var context: Int?
        @Option(help: "Read the leading --corpus windows up to this many tokens.") var maxTokens = 16384
        @Option(help: "Top contexts shown per feature.") var topContexts = 10
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            for (name, v) in [("--node-threshold", nodeThreshold), ("--edge-threshold", edgeThreshold)] where !(v >= 0 && v <= 1) {
                throw ValidationError("\(name) must be between 0 and 1, not \(v)")
            }
            if !(logitProbability > 0 && logitProbability <= 1) { throw ValidationError("--logit-probability must be in (0, 1], not \(logitProbability)") }
            if maxLogits < 1 { throw ValidationError("--max-logits must be at least 1, not \(maxLogits)") }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
            if figureNodes < 1 || figureEdges < 0 { throw ValidationError("--figure-nodes must be at least 1 and --figure-edges at least 0") }
            if topContexts < 1 || maxTokens < 1 { throw ValidationError("--top-contexts and --max-tokens must be at least 1") }
            if store != nil && corpus != nil { throw ValidationError("give --store or --corpus for the contexts, not both") }
            if corpus != nil && context == nil { throw ValidationError("--corpus needs --context N (tokens per window)") }
            if corpus == nil && context != nil { throw ValidationError("--context goes with --corpus") }
            if store == nil && capture != nil { throw ValidationError("--capture goes with --store") }
        }

        /// What `--format json` prints.
        struct Output: Encodable {
            let prompt: String
            let tokens: [String]
            let activeFeatures: Int
            let nodes: Int
            let keptNodes: Int
            let keptEdges: Int
            let replacementScore: Float
            let completenessScore: Float
            let logits: [Logit]
            let seconds: Double
            /// Of `seconds`, the backward passes (the adjacency rows).
            let backwardSeconds: Double
            let report: String
            struct Logit: Encodable { let token: String; let id: Int; let probability: Float }
        }

        func run() throws {
            let start = Date()
            let m = try modelOptions.load()
            let set = try TranscoderSet.load(transcoders)
            let ids = try GraphPrompt.tokens(prompt, tokenizer: m.tokenizer, bos: bos)
            Console.progress("graph: \(ids.count) tokens, \(set.transcoders.count) transcoders; forward pass")
            let replacement = try LocalReplacementModel(model: m.transformer, transcoders: set, tokens: ids)
            Console.progress("graph: \(replacement.features.count) active features; backward passes")
            var shown = 0
            let backwardStart = Date()
            let graph = try AttributionGraph(replacement, options: .init(maxLogits: maxLogits, logitProbability: logitProbability, batchSize: batchSize)) { done, total in
                if done * 10 / total > shown || done == total { shown = done * 10 / total; Console.progress("graph: rows \(done)/\(total)") }
            }
            let backwardSeconds = Date().timeIntervalSince(backwardStart)
            let pruning = try GraphPruning(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
            let scores = try graph.scores()
            let folder = outDir ?? "reports/" + ReportFolder.folderName(analysis: "graph", label: prompt)
            let logitTexts = graph.logitTargets.tokens.map { m.tokenizer.tokenString($0) }
            var inputs = AttributionGraph.ReportInputs(prompt: prompt, promptTokens: ids.map { m.tokenizer.tokenString($0) }, logitTokens: logitTexts,
                                                       slug: URL(fileURLWithPath: folder).lastPathComponent,
                                                       scan: URL(fileURLWithPath: transcoders).lastPathComponent,
                                                       nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
            (inputs.command, inputs.figureNodes, inputs.figureEdges, inputs.bos) = (commandLine(), figureNodes, figureEdges, bos.recorded(for: m.tokenizer))
            let contexts = try featureContexts(graph, pruning: pruning, model: m)
            try graph.writeReport(to: folder, pruning: pruning, inputs: inputs, scores: scores, contexts: contexts,
                                  tokenText: { m.tokenizer.decode([$0]) })
            Console.progress("report written to \(folder)")
            if format == .json {
                let logits = zip(graph.logitTargets.tokens, graph.logitTargets.probabilities).map { Output.Logit(token: m.tokenizer.tokenString($0), id: $0, probability: $1) }
                return try Console.json(Output(prompt: prompt, tokens: inputs.promptTokens, activeFeatures: replacement.features.count, nodes: graph.layout.nodes,
                                               keptNodes: pruning.nodeMask.filter { $0 }.count, keptEdges: pruning.edgeMask.filter { $0 }.count,
                                               replacementScore: scores.replacement, completenessScore: scores.completeness, logits: logits,
                                               seconds: Date().timeIntervalSince(start), backwardSeconds: backwardSeconds, report: folder))
            }
            Console.write(graph.summary(pruning: pruning, inputs: inputs, scores: scores).rendered())
        }
    }
}
