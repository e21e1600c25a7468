import Analyses
import ArgumentParser
import Foundation
import Models
import Store
import Reporting

extension Loupe.Steer {
    /// `loupe steer sweep`: effect and fluency cost over layers x strengths.
    struct Sweep: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Derive a direction per layer from contrastive pairs and measure effect vs fluency over layers x strengths.",
            discussion: """
            One batched capture of every chosen layer gives a direction per layer \
            (blocks.L.hook_resid_post, --method mean-diff or pca). Each (layer, strength) cell \
            then runs the held-out prompts steered (the effect: change in the concept tokens' \
            next-token probability) and the neutral text steered (the cost: mean KL from the \
            unsteered model, positions 1...). No text is generated, so a 30 x 3 sweep takes \
            about 2.5 minutes on two shared cores. Writes sweep.csv, effect.svg, fluency.svg, \
            tradeoff.svg (effect against KL), summary.txt and index.html, \
            and names the best cell whose KL is at most --max-kl. With --probe FILE (a saved \
            probe), each cell also reports the probe's mean probability of its positive class (or \
            --class) at the last position of each prompt, read with the steering active.

            Shards: with --shard I/N (or a job array's variables, see --shard) a process sweeps \
            the layers whose index in --layers mod N is I and saves each layer's cells to \
            OUT-shard-I-of-N/shard.json (a rerun resumes); `loupe report merge OUT DIRS...` \
            writes the report one process writes (docs/SCALE.md has job-runner recipes):

              loupe steer sweep --pairs p.jsonl --prompts t.txt --concept-tokens ' great' --out reports/s --shard 0/2
              loupe steer sweep --pairs p.jsonl --prompts t.txt --concept-tokens ' great' --out reports/s --shard 1/2
              loupe report merge reports/s reports/s-shard-0-of-2 reports/s-shard-1-of-2
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Contrastive pairs, JSON lines {\"positive\": ..., \"negative\": ...}.") var pairs: String
        @Option(help: "mean-diff or pca.") var method: SteeringSweep.Method = .meanDifference
        @Option(name: .customLong("position-rule"), help: "mean-excluding-first or last.") var positionRule: PositionRule = .meanExcludingFirst
        @Option(help: "Layers: all, a,b,c or a-b.") var layers = "all"
        @Option(help: "Comma-separated strengths: gentle, medium, strong, norm:K, raw:A.") var strengths = "gentle,medium,strong"
        @Option(help: "A held-out prompt (repeatable).") var prompt: [String] = []
        @Option(help: "A file of held-out prompts (.txt, .jsonl or .tsv).") var prompts: String?
        @Flag(help: "Wrap each held-out prompt as a user message in the chat template (p(concept) is then the answer's first token).") var chat = false
        @Option(help: "Comma-separated single tokens whose probability is the effect.") var conceptTokens: String
        @Option(help: "A saved probe whose probability is reported per cell.") var probe: String?
        @Option(name: .customLong("class"), help: "With --probe: the class scored (default: a binary probe's positive class).") var className: String?
        @Option(help: "Neutral text for norms and KL (default \(SteerInputs.defaultNeutral)).") var neutral: String?
        @Option(help: "The best cell must have a neutral KL at most this (nats).") var maxKL = 0.5
        @Option(help: "Report folder (default: reports/steer-sweep-<pairs file>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func validate() throws {
            if prompt.isEmpty && prompts == nil { throw ValidationError("give --prompt TEXT or --prompts FILE (held-out prompts)") }
            if className != nil && probe == nil { throw ValidationError("--class goes with --probe") }
            let s = try SteerInputs.strengths(strengths)
            if s.contains(where: { if case .targetKL = $0 { true } else { false } }) {
                throw ValidationError("a sweep takes fixed strengths (gentle, medium, strong, norm:K, raw:A), not kl:T")
            }
        }

        func run() throws {
            let contrast = try ContrastPair.read(path: pairs)
            let saved = try SteerInputs.probe(probe, className: className)
            let m = try modelOptions.load()
            let layerList = try SteerInputs.layers(layers, count: m.config.nLayers)
            if let saved {
                for w in saved.warnings(probePoint: try saved.hookPoint(in: m.config), steered: layerList.map { .residPost($0) }) { Console.progress(w) }
            }
            let texts = try prompt + (prompts.map(SteerInputs.texts) ?? [])
            let neutralTexts = try SteerInputs.neutral(neutral)
            let concept = try SteerInputs.conceptTokens(conceptTokens, m)
            let sweep = SteeringSweep(model: m.transformer, tokenizer: m.tokenizer, pairs: contrast, method: method, rule: positionRule,
                                      layers: layerList, strengths: try SteerInputs.strengths(strengths))
            let heldOut = try SteerInputs.prompts(texts, chat: chat, m)
            if let (shard, source) = try shardOptions.resolved() {
                return try sweepShard(shard, source: source, sweep, m, prompts: heldOut, neutral: neutralTexts, concept: concept,
                                      readout: saved)
            }
            let start = Date()
            let result = try sweep.run(prompts: heldOut, neutral: neutralTexts, conceptTokens: concept,
                                       readout: saved?.readout()) { Console.progress($0) }
            Console.progress(String(format: "swept %d layers x %d strengths over %d prompts in %.1f s", layerList.count,
                                    result.strengths.count, texts.count, Date().timeIntervalSince(start)))
            let folder = try noReport ? nil : out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                ?? ReportFolder(analysis: "steer-sweep", label: URL(fileURLWithPath: pairs).deletingPathExtension().lastPathComponent)
            try Self.finish(result, model: m.config.name, prompts: texts.count, maxKL: maxKL, folder: folder, command: commandLine(), format: format)
        }

        /// Writes the report (unless `folder` is nil) and prints the table (what the single
        /// run and `loupe report merge` print).
        static func finish(_ result: SteeringSweep.Result, model: String, prompts: Int, maxKL: Double, folder: ReportFolder?,
                           command: String, format: OutputFormat) throws {
            if var folder {
                try result.writeReport(to: &folder, model: model, maxKL: maxKL, command: command)
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            Console.out("p(concept) unsteered: \(fmt(result.baselineConceptProbability)) over \(prompts) prompt(s)")
            let w = max(14, (result.strengths.map(\.count).max() ?? 0) + 9)
            func pad(_ s: String) -> String { String(repeating: " ", count: max(w - s.count, 1)) + s }
            if let r = result.readout, let b = result.baselineReadoutScore { Console.out("\(r) unsteered: \(fmt(b))") }
            let probeColumns = result.readout != nil
            Console.out("layer" + result.strengths.map { pad("effect " + $0) + (probeColumns ? pad("probe " + $0) : "") + pad("KL " + $0) }.joined())
            for l in result.layers {
                var line = String(format: "%5d", l)
                for s in result.strengths {
                    let c = result.cells.first { $0.layer == l && $0.strength == s }!
                    line += pad(String(format: "%+.4f", c.effect))
                    if probeColumns { line += pad(String(format: "%+.4f", c.readoutEffect ?? .nan)) }
                    line += pad(String(format: "%.4f", c.klNeutral))
                }
                Console.out(line)
            }
            if let b = result.best(maxKL: maxKL) {
                Console.out("best with KL <= \(maxKL): layer \(b.layer), \(b.strength): p(concept) \(fmt(b.conceptProbability)) (\(String(format: "%+.4f", b.effect))), KL \(fmt(b.klNeutral))")
            } else {
                Console.out("no cell has KL <= \(maxKL)")
            }
        }
    }
}
