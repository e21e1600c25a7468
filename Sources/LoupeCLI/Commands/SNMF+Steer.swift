import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension SNMFSteering.Point: ExpressibleByArgument {}

extension Loupe.SNMF {
    /// `loupe snmf steer`: generate with one SNMF feature at target KLs.
    struct Steer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Steer generation with one SNMF feature, its strength set by a target KL.",
            discussion: """
            The feature's direction (--feature N of --fit snmf.json, from `loupe snmf fit`) is added \
            at every position while generating: with --at post (the default) the feature's neuron \
            group z at unit norm at the fitted hook (blocks.L.mlp.hook_post); with --at resid its \
            residual image W_down z at blocks.L.hook_resid_post, which changes the residual stream \
            exactly as adding z at hook_post does. For each --kl target (nats, comma-separated, \
            default 0.1) the strength is found by binary search so that the mean next-token \
            KL(unsteered || steered) over the --base prompt's positions 1... (default "I think \
            that", as Shafran et al. 2025, who use targets 0.025 to 0.5) reaches the target. \
            Each --prompt (default: the base prompt) is continued greedily for --max-tokens tokens, \
            unsteered and at each target.

            --save FILE writes the direction as a steering-direction JSON (kind snmf-feature) that \
            `loupe steer apply|sweep --direction FILE` read, as `loupe steer derive --snmf` does. \
            --concept-tokens reports their summed next-token probability at the end of each prompt. \
            The report folder (--out, default reports/snmf-steer-<feature>) is that of `steer apply`.

            Example: loupe snmf steer --fit reports/snmf-x/snmf.json --feature 3 --kl 0.05,0.2 --prompt "My favourite food is"
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "A saved fit: snmf.json (or the report folder holding it).") var fit: String
        @Option(help: "The feature's index.") var feature: Int
        @Option(help: "post (unit z at the fitted hook) or resid (W_down z at blocks.L.hook_resid_post).") var at: SNMFSteering.Point = .post
        @Option(help: "Comma-separated target KLs in nats.") var kl = "0.1"
        @Option(help: "The text the KL is measured on.") var base = "I think that"
        @Option(help: "A prompt to continue (repeatable; default: --base).") var prompt: [String] = []
        @Option(name: .customLong("concept-tokens"), help: "Comma-separated single tokens whose probability is reported.") var conceptTokens: String?
        @Option(name: .customLong("max-tokens"), help: "Tokens to generate per run.") var maxTokens = 24
        @Option(help: "Write the direction JSON here (for `loupe steer apply|sweep`).") var save: String?
        @Option(help: "Report folder (default: reports/snmf-steer-<feature>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func targets() -> [Double]? {
            let values = kl.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            return values.isEmpty || values.contains(where: { ($0 ?? 0) <= 0 || !$0!.isFinite }) ? nil : values.map { $0! }
        }

        func validate() throws {
            guard targets() != nil else { throw ValidationError("--kl takes comma-separated positive numbers, e.g. 0.05,0.2; got '\(kl)'") }
            guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        }

        func run() throws {
            let path = fit.hasSuffix(".json") ? fit : URL(fileURLWithPath: fit).appendingPathComponent("snmf.json").path
            let steering = try SNMFSteering(file: SNMFFile.load(path: path), path: path, feature: feature, at: at)
            let m = try modelOptions.load()
            let direction = try steering.direction(model: m.transformer, tokenizer: m.tokenizer, modelName: m.config.name)
            if let save {
                try direction.save(to: save)
                Console.progress("direction written to \(save)")
            }
            let result = try SNMFSteering.run(direction: direction, model: m.transformer, tokenizer: m.tokenizer, targets: targets()!,
                                              base: base, prompts: prompt.isEmpty ? [base] : prompt,
                                              conceptTokens: try SteerInputs.conceptTokens(conceptTokens, m), maxNewTokens: maxTokens) { Console.progress($0) }
            if !noReport {
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                    ?? ReportFolder(analysis: "snmf-steer", label: "feature-\(feature)")
                try result.writeReport(to: &folder, model: m.config.name, command: commandLine())
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            Console.out("feature \(feature) at \(direction.hook); KL measured on \"\(base)\"")
            for s in result.settings {
                var line = "\(s.label): scale \(fmt(s.scales[0])) (x norm \(String(format: "%.3f", s.normMultiples[0]))), KL \(fmt(s.klNeutral))"
                if let p = s.conceptProbability { line += ", p(concept) \(fmt(p))" }
                Console.out(line)
            }
            for p in result.prompts {
                Console.out("\n" + p.prompt)
                Console.out("  unsteered".padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + p.unsteered.text.replacingOccurrences(of: "\n", with: "⏎"))
                for (s, g) in zip(result.settings, p.steered) {
                    Console.out(("  " + s.label).padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + g.text.replacingOccurrences(of: "\n", with: "⏎"))
                }
            }
        }
    }
}
