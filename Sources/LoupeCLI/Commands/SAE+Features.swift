import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting
import Store

extension Loupe.SAE {
    /// `loupe sae features`: what an SAE's latents respond to and what they write.
    struct Features: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read an SAE's latents on stored activations: top contexts, quartile bands, density, vocabulary effects; an HTML page per latent.",
            discussion: """
            Encodes every row of the SAE's hook in a `loupe capture` store (one streaming pass; \
            rows at position 0 and rows above --outlier-factor times the median norm are left \
            out, as in training) and keeps, per latent, how often it fires, its largest \
            activations and a seeded sample of the rows it fires on.

            Pages are written for the latents named by --latents, else for --sample live latents \
            drawn with --seed. Each page shows the latent's top --top contexts with the token \
            marked, samples from the quartile bands of its activations, a histogram of its \
            activations and, at residual-stream hooks and mlp.hook_post, the tokens its decoder \
            row promotes and suppresses through the final norm and the unembedding. The model \
            (--model, default the SmolLM2 GGUF) gives token text and the unembedding; it must be \
            the store's model.

            Writes summary.txt, latents.csv (every latent), density.svg, l0.csv, contexts.csv, \
            vocabulary.csv, latent-N.html and index.html into --out (default reports/sae-<label>).

            Example: loupe sae features --sae sae-l15 --store acts.db --sample 12
            """)

        @Option(help: "The SAE folder (SAELens layout).") var sae: String
        @Option(help: "An activation store holding the SAE's hook.") var store: String
        @Option(help: "The hook to read (default: the SAE's cfg.json metadata hook_name).") var hook: String?
        @Option(help: "Capture id in --store (default: the only one).") var capture: Int64?
        @Option(help: "Comma-separated latents to write pages for, e.g. 3,17,42.") var latents: String?
        @Option(help: "Without --latents: how many live latents to draw.") var sample: Int = 16
        @Option(help: "Seed of the latent draw and of the band samples.") var seed: UInt64 = 0
        @Option(help: "Top contexts kept per latent.") var top: Int = 20
        @Option(name: .customLong("outlier-factor"), help: "Leave out rows above this multiple of the median norm.") var outlierFactor: Float = 10
        @Option(help: "Report folder (default: reports/sae-<label>).") var out: String?
        @Option(help: "Label of the default report folder (default: the SAE folder's name).") var label: String?
        @Flag(name: .customLong("allow-model-mismatch"), help: "Read a store captured with another model than --model.") var allowModelMismatch = false
        @OptionGroup var model: ModelOptions
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if sample < 1 { throw ValidationError("--sample must be at least 1") }
            if top < 1 { throw ValidationError("--top must be at least 1") }
            if outlierFactor <= 0 { throw ValidationError("--outlier-factor must be positive") }
            if let latents, parsedLatents(latents) == nil { throw ValidationError("--latents takes comma-separated latent numbers, e.g. 3,17,42; got '\(latents)'") }
        }

        func parsedLatents(_ text: String) -> [Int]? {
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
        }

        func run() throws {
            let (sparse, metadata) = try SAEFolder.load(sae)
            guard let hookName = hook ?? (metadata.hookName.isEmpty ? nil : metadata.hookName) else {
                throw ValidationError("\(sae)/cfg.json names no hook (metadata.hook_name); pass --hook")
            }
            let chosen = latents.flatMap(parsedLatents)
            if let bad = chosen?.first(where: { !(0..<sparse.latents).contains($0) }) {
                throw ValidationError("latent \(bad) is outside the SAE's \(sparse.latents) latents (0...\(sparse.latents - 1))")
            }
            let loaded = try model.load()
            let summary = try ActivationStore(path: store).captureSummary(choosing: capture)
            let identity = try ModelIdentity(of: loaded)
            if summary.modelHash != identity.fileHash && !allowModelMismatch {
                throw ValidationError("\(store) capture \(summary.id) was made with \(summary.model) (hash \(summary.modelHash)), not \(loaded.path); pass its model with --model, or --allow-model-mismatch")
            }
            Console.progress("encoding \(summary.rowsPerHook) rows of \(hookName) with \(sparse.architecture) SAE (\(sparse.latents) latents)")
            let stats = try SAEFeatureStatistics.collect(sae: sparse, store: store, capture: summary.id, hook: hookName, outlierFactor: outlierFactor,
                                                         topCount: top, seed: seed) { done, all in
                if done % 20_480 < 2048 || done == all { Console.progress("\(done)/\(all) rows") }
            }
            let shown = chosen ?? stats.sampleLiveLatents(sample, seed: seed)
            let point = HookPoint(name: hookName)
            var vocabulary: [VocabularyLens.Effects]? = nil
            if let point, VocabularyLens.reads(point), !shown.isEmpty {
                let rows = shown.flatMap { sparse.parameters.wDec[($0 * sparse.width)..<(($0 + 1) * sparse.width)] }
                vocabulary = try VocabularyLens.effects(of: rows, count: shown.count, at: point, model: loaded.transformer)
            }
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                ?? ReportFolder(analysis: "sae", label: label ?? URL(fileURLWithPath: sae).lastPathComponent)
            try stats.writeReport(to: &folder, sae: sparse, shown: shown, command: commandLine(),
                                  tokenText: { loaded.tokenizer.decode([$0]) }, vocabulary: vocabulary)
            struct Summary: Encodable {
                let rows: Int; let skipped: [String: Int]; let meanL0: Double; let dead: Int; let dense: Int; let latents: Int
                let shown: [Int]; let report: String
            }
            if format == .json {
                return try Console.json(Summary(rows: stats.rows, skipped: stats.skipped, meanL0: stats.meanL0, dead: stats.dead, dense: stats.dense,
                                                latents: stats.latents, shown: shown, report: folder.url.path))
            }
            Console.out("\(stats.rows) rows of \(hookName): mean L0 \(fmt(stats.meanL0)), \(stats.dead) of \(stats.latents) latents dead, \(stats.dense) dense (> 10% of rows)")
            for latent in shown {
                let word = stats.top[latent].first.map { "top token \(TokenLabel.display(loaded.tokenizer.decode([$0.token]))), " } ?? ""
                Console.out("latent \(latent): \(word)density \(fmt(stats.density[latent])), max \(fmt(Double(stats.maxActivation[latent])))")
            }
            Console.out("report in \(folder.url.path)")
        }
    }
}
