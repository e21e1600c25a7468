import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension Loupe.SNMF {
    /// `loupe snmf concepts`: concept detection and steering, SNMF features against baselines.
    struct Concepts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare SNMF features with difference of means and a probe on concept detection and steering.",
            discussion: """
            Reads a saved fit (--fit snmf.json or its folder; fitted at a hook of the model, \
            usually blocks.L.mlp.hook_post) and a concept set (--concepts, default \
            probes/concepts: concepts.jsonl with text and concept, neutral sentences labelled \
            neutral, and concept-words.json). For each concept and method (snmf: the feature \
            whose code, max over a sentence's tokens, best separates the concept's sentences on \
            the even-numbered half; diff-means: the concept's mean row minus the rest's; probe: a \
            logistic probe on mean rows) it reports:
              detection   ROC AUC on the odd-numbered half (the concept's sentences against all others)
              steering    the method's unit direction added at the hook at the scale whose mean \
            next-token KL on --neutral-count neutral sentences reaches each --kl target (matched \
            KL), and the raise of the concept words' summed next-token probability after a few \
            generic prompts, also per nat of KL
              purity      the share of the chosen feature's top tokens that sit in the concept's sentences

            --sae DIR adds a fourth method, sae: an SAE trained at the fit's hook (`loupe sae \
            train --hook` on the same hook; a folder in SAELens's layout), its latent chosen like \
            an SNMF feature (activation max over tokens, best train AUC) and its decoder row the \
            steering direction.

            Writes concepts.txt (the table), concepts.csv, concepts-steering.svg (raise against \
            KL, a line per method, mean over concepts) and concepts.json into --out (default \
            reports/snmf-concepts-<label>).

            Example: loupe snmf concepts --fit reports/snmf-l15 --kl 0.05,0.1,0.2
                     loupe snmf concepts --fit reports/snmf-l15 --sae reports/sae-l15
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "A saved fit: snmf.json (or the report folder holding it).") var fit: String
        @Option(help: "A concept-set folder (concepts.jsonl + concept-words.json).") var concepts = "probes/concepts"
        @Option(help: "An SAE folder at the fit's hook, compared as method sae.") var sae: String?
        @Option(help: "Use only the first N concepts (default: all).") var limit: Int?
        @Option(help: "Comma-separated target KLs in nats.") var kl = "0.05,0.1,0.2"
        @Option(name: .customLong("neutral-count"), help: "Neutral sentences the KL is measured on.") var neutralCount = 6
        @Option(help: "Bisection steps per calibration.") var steps = 8
        @Option(help: "Report folder (default: reports/snmf-concepts-<fit folder>).") var out: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            guard targets() != nil else { throw ValidationError("--kl takes comma-separated positive numbers, e.g. 0.05,0.2; got '\(kl)'") }
            guard neutralCount >= 1, steps >= 1 else { throw ValidationError("--neutral-count and --steps must be at least 1") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func targets() -> [Double]? {
            let values = kl.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            return values.isEmpty || values.contains(where: { ($0 ?? 0) <= 0 || !$0!.isFinite }) ? nil : values.map { $0! }
        }

        func run() throws {
            let path = fit.hasSuffix(".json") ? fit : URL(fileURLWithPath: fit).appendingPathComponent("snmf.json").path
            let file = try SNMFFile.load(path: path)
            var set = try ConceptSet.read(folder: concepts)
            if let limit { set = set.prefix(limit) }
            let m = try modelOptions.load()
            var comparison = SNMFConceptComparison(model: m.transformer, tokenizer: m.tokenizer, file: file, concepts: set)
            comparison.sae = try sae.map { try SNMFConceptComparison.loadSAE($0, hook: file.hook) }
            comparison.targets = targets()!
            comparison.neutralCount = neutralCount
            comparison.calibrationSteps = steps
            let started = Date()
            let result = try comparison.run { Console.progress($0) }
            Console.progress(String(format: "compared %d concepts in %.1f s", set.concepts.count, Date().timeIntervalSince(started)))
            let label = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) } ?? ReportFolder(analysis: "snmf-concepts", label: label)
            try result.writeReport(to: &folder, command: commandLine())
            Console.progress("report written to \(folder.url.path)")
            // (concepts.json spells a failed calibration's NaN as "nan", which Console.json cannot)
            if format == .json { return Console.out(try String(contentsOf: folder.url.appendingPathComponent("concepts.json"), encoding: .utf8)) }
            Console.out(String(result.table.dropLast()))
        }
    }
}
