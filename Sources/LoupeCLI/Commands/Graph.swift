import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

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
            A BOS token is prepended unless the prompt starts with a special token; position 0 has \
            no feature or error nodes. --batch-size (256) targets share one backward pass \
            (memory about 3 x batch x tokens x d_model floats).

            Writes --out-dir (default reports/graph-<prompt>): <slug>.json in circuit-tracer's \
            frontend schema (with graph-metadata.json), nodes.csv, edges.csv and summary.txt \
            (replacement and completeness scores, logits, strongest token-to-answer paths).

            Example: loupe graph --prompt "The Eiffel Tower is located in the city of" --transcoders transcoders/smollm2
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The prompt.") var prompt: String
        @Option(help: "Transcoder set folder (transcoders.json + layer-<L>/).") var transcoders: String
        @Option(help: "Keep the nodes carrying this share of the influence on the logits.") var nodeThreshold: Float = 0.8
        @Option(help: "Keep the edges carrying this share of the edge influence.") var edgeThreshold: Float = 0.98
        @Option(help: "At most this many logit nodes.") var maxLogits = 10
        @Option(help: "Logit nodes until their probabilities sum to this.") var logitProbability: Float = 0.95
        @Option(help: "Targets per backward pass.") var batchSize = 256
        @Option(help: "Report folder (default: reports/graph-<prompt>).") var outDir: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            for (name, v) in [("--node-threshold", nodeThreshold), ("--edge-threshold", edgeThreshold)] where !(v >= 0 && v <= 1) {
                throw ValidationError("\(name) must be between 0 and 1, not \(v)")
            }
            if !(logitProbability > 0 && logitProbability <= 1) { throw ValidationError("--logit-probability must be in (0, 1], not \(logitProbability)") }
            if maxLogits < 1 { throw ValidationError("--max-logits must be at least 1, not \(maxLogits)") }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
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
            let ids = try GraphPrompt.tokens(prompt, tokenizer: m.tokenizer)
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
            let inputs = AttributionGraph.ReportInputs(prompt: prompt, promptTokens: ids.map { m.tokenizer.tokenString($0) }, logitTokens: logitTexts,
                                                       slug: URL(fileURLWithPath: folder).lastPathComponent,
                                                       scan: URL(fileURLWithPath: transcoders).lastPathComponent,
                                                       nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
            try graph.writeReport(to: folder, pruning: pruning, inputs: inputs, scores: scores)
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
