import Analyses
import ArgumentParser
import Foundation
import Formats
import Linalg
import Models
import Tokenizers
import Reporting

extension Loupe {
    /// `loupe trace`: which layers recall a fact (ROME's causal tracing).
    struct Trace: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Causal tracing: which layers and tokens carry a fact (Meng et al. 2022).",
            discussion: """
            Runs the prompt clean, then with Gaussian noise added to the subject's token \
            embeddings (std = --noise-multiplier x the std of token embeddings over a text \
            sample; --samples runs, seeded), then restores one clean activation at a time: the \
            residual stream per (layer, token), and MLP / attention outputs over a window of \
            --window layers around each layer. Each cell is the target's probability with that \
            activation restored, averaged over the noise samples; its indirect effect is that \
            minus the corrupted probability (both per cell in the CSVs, columns value and \
            indirect_effect, and in the JSON, grids and indirectEffects). The target defaults to \
            the clean top-1 token.

            With --facts FILE.jsonl (one {"prompt": ..., "subject": ..., "answer": ...} per \
            line; answer optional) every fact is traced and the report averages the indirect \
            effect by token role (first/middle/last subject token, first subsequent token, \
            further tokens, last token) with 95% confidence intervals over facts, as ROME's \
            summary does. Facts whose clean top-1 token is not the answer's first token are \
            skipped and listed: the model does not know them.

            Sharding: with --shard I/N (or a job array's variables, see --shard) a process traces \
            the facts whose line index mod N is I and saves them after each fact in \
            shard.json in its folder (--out or reports/trace-<file>, with -shard-I-of-N appended); rerunning \
            the shard resumes there. `loupe report merge OUT DIR...` joins the N folders into \
            the report one process writes. --shard 0/1 makes a single run resumable.

            Speed: each restoration run resumes above the restored layer with the positions \
            from the restored token on, and a layer's runs are batched. Layers run in one \
            lane per --threads (default: all cores), each lane's products on one OpenBLAS \
            thread; the Eiffel trace takes under a minute on 2 cores.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The prompt.") var prompt: String?
        @Option(help: "The subject: text of the prompt whose tokens are corrupted.") var subject: String?
        @Option(help: "JSONL of facts to trace and average: {\"prompt\", \"subject\", \"answer\"} per line.") var facts: String?
        @Option(help: "Comma-separated kinds to compute: state, mlp, attention.") var kinds = "state,mlp,attention"
        @Option(help: "Target token text (a single token, e.g. \" Paris\"); default: the clean top-1.") var target: String?
        @Option(help: "Noise samples per cell.") var samples = 10
        @Option(help: "Noise std as a multiple of the token embeddings' std.") var noiseMultiplier: Float = 3
        @Option(help: "Additive noise [samples, subject tokens, width] as .npy instead of drawing it.") var noise: String?
        @Option(help: "Layers restored together for MLP and attention.") var window = 10
        @Option(help: "Noise seed.") var seed: UInt64 = 1
        @Option(help: "Report folder (default: reports/trace-<subject>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func parsedKinds() throws -> [CausalTracing.Kind] {
            let list = try kinds.split(separator: ",").map { name in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard let kind = CausalTracing.Kind(rawValue: name) else {
                    throw ValidationError("unknown kind '\(name)': choose from state, mlp, attention")
                }
                return kind
            }
            if list.isEmpty { throw ValidationError("--kinds names nothing to compute") }
            return list
        }

        func validate() throws {
            if facts == nil && (prompt == nil || subject == nil) { throw ValidationError("give --prompt and --subject, or --facts FILE.jsonl") }
            if facts != nil && (prompt != nil || subject != nil || target != nil || noise != nil) {
                throw ValidationError("--facts traces the file's facts: it cannot be combined with --prompt, --subject, --target or --noise")
            }
            _ = try parsedKinds()
            if facts == nil && shardOptions.shard != nil { throw ValidationError("--shard splits the facts of --facts FILE over processes") }
            if facts != nil && noReport && shardOptions.shard != nil { throw ValidationError("a shard saves its facts in its report folder: drop --no-report") }
            if !(1...10_000).contains(samples) { throw ValidationError("--samples must be between 1 and 10000 (each costs a corrupted pass per cell), not \(samples)") }
            if !(1...1024).contains(window) { throw ValidationError("--window must be between 1 and 1024 layers, not \(window)") }
            if !(noiseMultiplier >= 0) { throw ValidationError("--noise-multiplier must be >= 0") }
        }

        func run() throws {
            let m = try modelOptions.load()
            let sweepLanes = SweepLanes()
            defer { sweepLanes.restore() }
            let lanes = sweepLanes.count
            if let facts { return try traceFacts(facts, m, lanes: lanes) }
            let (prompt, subject) = (prompt!, subject!)
            let ids = try m.tokenizer.encode(prompt)
            let subjectRange = try SubjectLocator.range(of: subject, in: ids, tokenizer: m.tokenizer)
            let targetID = try target.map { try singleToken($0, m) }
            let noiseTensor = try noise.map { try NumPyArray.read(path: $0) }
            let config = CausalTracing.Config(samples: noiseTensor?.shape.first ?? samples,
                                              noiseMultiplier: noiseMultiplier, seed: seed, window: window, kinds: try parsedKinds(),
                                              lanes: lanes)
            let std = try NoiseLevel.embeddingStd(m) * noiseMultiplier
            let start = Date()
            Console.progress("tracing \(ids.count) tokens x \(m.config.nLayers) layers x \(config.kinds.count) kinds, \(config.samples) samples")
            let result = try CausalTracing(model: m.transformer, config: config)
                .run(tokens: ids, subject: subjectRange, target: targetID, noiseStd: std, noise: noiseTensor)
            Console.progress(String(format: "traced in %.2f s", Date().timeIntervalSince(start)))
            let tokens = ids.map { m.tokenizer.tokenString($0) }
            if !noReport {
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                    ?? ReportFolder(analysis: "trace", label: subject)
                try result.writeReport(to: &folder, model: m.config.name, prompt: prompt, subjectText: subject,
                                       tokens: tokens, targetToken: m.tokenizer.tokenString(result.target),
                                       command: commandLine())
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            Console.out("target '\(m.tokenizer.tokenString(result.target))': clean p = \(fmt(result.cleanProbability)), corrupted p = \(fmt(result.corruptedProbability))")
            for kind in config.kinds {
                let grid = result.grids[kind]!
                Console.out("\n\(kind.rawValue): restored p per token (rows) and layer (columns)")
                for (t, token) in tokens.enumerated() {
                    let mark = subjectRange.contains(t) ? "*" : " "
                    let label = (mark + token).padding(toLength: 14, withPad: " ", startingAt: 0)
                    Console.out(label + grid.map { String(format: "%4.0f", $0[t] * 100) }.joined())
                }
            }
        }
    }
}

/// The id of `text` when it is exactly one token, else an error naming its pieces.
func singleToken(_ text: String, _ m: LoadedModel) throws -> Int {
    let ids = try m.tokenizer.encode(text)
    guard ids.count == 1 else {
        throw AnalysisError.notASingleToken(text: text, pieces: ids.map { m.tokenizer.tokenString($0) })
    }
    return ids[0]
}

func fmt(_ x: Double) -> String { String(format: "%.4f", x) }
