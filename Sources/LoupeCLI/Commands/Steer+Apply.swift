import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension Loupe.Steer {
    /// `loupe steer apply`: generate with and without steering, side by side.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate with and without a steering direction and report effect and fluency cost.",
            discussion: """
            For each prompt, generates unsteered and at each strength with the same sampling seed. \
            Strengths (--strengths, comma-separated): gentle, medium, strong (0.1, 0.25 and 0.4 \
            times the hook's typical activation norm, measured on the neutral text with position 0 \
            left out), norm:K (K times that norm, also written Kx), raw:A or a bare number A \
            (A times the direction as saved), kl:T (binary search for the scale whose mean \
            next-token KL divergence on the neutral text is T nats). Several --direction files \
            are applied together, each at the same strength.

            --mode ablate projects the direction out instead (x - (x.u)u at the selected \
            positions). A contrast direction's zero need not be where ordinary text sits: the \
            neutral text's mean projection is printed, and --ablate-to neutral-mean sets each \
            row's projection to it (x - (x.u - m)u) instead of to zero. Position 0 is not \
            ablated unless --ablate-first-position: in SmolLM2 it is an attention sink whose \
            projection is an artifact of its huge norm, and ablating it disturbs every later \
            position. --positions all|prompt|generated chooses where the edit applies during \
            generation. --chat wraps each prompt as a user message in the model's chat \
            template, so the steered text is the assistant's answer; the edit then also applies \
            to the template's tokens unless --positions generated.

            Reported: p(concept) (--concept-tokens, summed next-token probability at the end of \
            each prompt, steering every position), KL(unsteered || steered) on the neutral text \
            (positions 1...), and the perplexity of each generated text under the unsteered model. \
            With --probe FILE (a saved probe from `loupe probe train`): the probe's mean probability \
            of its positive class (or --class) at the last position of each prompt, read at its hook \
            with the steering active, unsteered and per strength.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "A direction JSON made by `steer derive` (repeat to apply several).") var direction: [String] = []
        @Option(help: "A prompt (repeatable).") var prompt: [String] = []
        @Option(help: "A prompt file: .txt one per line, .jsonl with \"text\", or .tsv with a text column.") var prompts: String?
        @Flag(help: "Wrap each prompt as a user message in the model's chat template.") var chat = false
        @Option(help: "Comma-separated strengths (see above).") var strengths = "gentle,medium,strong"
        @Option(help: "add or ablate.") var mode: SteeringIntervention.Mode = .add
        @Option(name: .customLong("ablate-to"), help: "With --mode ablate, the projection rows are set to: zero or neutral-mean (default zero).")
        var ablateTo: SteeringExperiment.AblationTarget?
        @Flag(name: .customLong("ablate-first-position"), help: "With --mode ablate, ablate position 0 too (an attention sink; left alone by default).")
        var ablateFirstPosition = false
        @Option(help: "Where the edit applies while generating: all, prompt or generated.") var positions: SteeringIntervention.Positions = .all
        @Option(help: "Comma-separated single tokens whose probability is the effect, e.g. \" great, happy\".") var conceptTokens: String?
        @Option(help: "A saved probe whose probability is reported as a concept score.") var probe: String?
        @Option(name: .customLong("class"), help: "With --probe: the class scored (default: a binary probe's positive class).") var className: String?
        @Option(help: "Neutral text for norms and KL (.txt or .jsonl; default \(SteerInputs.defaultNeutral)).") var neutral: String?
        @Option(name: .customLong("max-tokens"), help: "Tokens to generate per run.") var maxTokens = 24
        @Option(help: "0 is greedy.") var temperature: Float = 0
        @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: all).") var topK = 0
        @Option(name: .customLong("top-p"), help: "Nucleus sampling threshold.") var topP: Float = 1
        @Option(help: "Sampling seed (the same for every setting).") var seed: UInt64 = 0
        @Option(help: "Report folder (default: reports/steer-<first prompt>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if direction.isEmpty { throw ValidationError("give at least one --direction FILE.json (made by `loupe steer derive`)") }
            if prompt.isEmpty && prompts == nil { throw ValidationError("give --prompt TEXT or --prompts FILE") }
            _ = try SteerInputs.strengths(strengths)
            if className != nil && probe == nil { throw ValidationError("--class goes with --probe") }
            if (ablateTo != nil || ablateFirstPosition) && mode != .ablate {
                throw ValidationError("--ablate-to and --ablate-first-position go with --mode ablate")
            }
        }

        func run() throws {
            let directions = try direction.map { try SteeringDirection.load(from: $0) }
            let saved = try SteerInputs.probe(probe, className: className)
            let m = try modelOptions.load()
            let points = try directions.map { try $0.hookPoint(in: m.config) }
            if let saved {
                for w in saved.warnings(probePoint: try saved.hookPoint(in: m.config), steered: points) { Console.progress(w) }
            }
            let texts = try prompt + (prompts.map(SteerInputs.texts) ?? [])
            let neutralTexts = try SteerInputs.neutral(neutral)
            let concept = try SteerInputs.conceptTokens(conceptTokens, m)
            let experiment = SteeringExperiment(model: m.transformer, tokenizer: m.tokenizer, directions: directions, mode: mode,
                                                positions: positions, strengths: try SteerInputs.strengths(strengths),
                                                sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed),
                                                maxNewTokens: maxTokens, stopTokens: Set(m.tokenizer.eogIDs), ablateTo: ablateTo ?? .zero,
                                                ablatesFirstPosition: ablateFirstPosition)
            let start = Date()
            let inputs = try SteerInputs.prompts(texts, chat: chat, m)
            let result = try experiment.run(prompts: inputs, neutral: neutralTexts, conceptTokens: concept,
                                        readout: saved?.readout()) { Console.progress($0) }
            Console.progress(String(format: "steered %d prompt(s) at %d setting(s) in %.1f s", texts.count, result.settings.count, Date().timeIntervalSince(start)))
            if !noReport {
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                    ?? ReportFolder(analysis: "steer", label: texts[0])
                try result.writeReport(to: &folder, model: m.config.name, command: commandLine())
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            if let b = result.baselineConceptProbability {
                Console.out("p(concept \(result.conceptTokens.map { "'\($0)'" }.joined(separator: " "))) unsteered: \(fmt(b))")
            }
            if let r = result.readout, let b = result.baselineReadoutScore { Console.out("\(r) unsteered: \(fmt(b))") }
            if let targets = result.ablationTargets {
                for (i, hook) in result.directions.enumerated() {
                    Console.out("\(hook): neutral text projects at \(fmt(result.neutralProjections[i])) on the direction; ablated rows are set to \(fmt(targets[i]))")
                }
            }
            Console.out("perplexity of unsteered text: \(String(format: "%.2f", result.baselinePerplexity))")
            for s in result.settings {
                var line = result.ablationTargets.map { "\(s.label) (to \($0.map(fmt).joined(separator: "/")))" }
                    ?? "\(s.label): x norm \(s.normMultiples.map { String(format: "%.3f", $0) }.joined(separator: "/"))"
                if let p = s.conceptProbability { line += ", p(concept) \(fmt(p))" }
                if let r = result.readout, let p = s.readoutScore { line += ", \(r) \(fmt(p))" }
                line += ", KL neutral \(fmt(s.klNeutral)), perplexity \(String(format: "%.2f", s.meanPerplexity))"
                Console.out(line)
            }
            for (text, p) in zip(texts, result.prompts) {
                Console.out("\n" + (chat ? "(chat) " : "") + text)
                Console.out("  unsteered".padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + oneLine(p.unsteered.text))
                for (s, g) in zip(result.settings, p.steered) {
                    Console.out(("  " + s.label).padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + oneLine(g.text))
                }
            }
        }

        func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "⏎") }
    }
}
