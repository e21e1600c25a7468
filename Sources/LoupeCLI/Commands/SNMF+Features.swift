import Analyses
import ArgumentParser
import Foundation

extension Loupe.SNMF {
    /// `loupe snmf features`: chosen features of a saved fit, from its report folder.
    struct Features: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print chosen features of a saved SNMF fit: neurons, top tokens in context, vocabulary effects.",
            discussion: """
            Reads the report folder of `loupe snmf fit` (--fit DIR or DIR/snmf.json): per feature \
            (--features, comma-separated indices; default all) its --neurons largest-magnitude \
            neurons and weights (snmf.json), its --tokens top tokens by code with their context, \
            the token in [brackets] (tokens.csv: store fits; text with the fit's --model), and the \
            tokens its residual image W_down z promotes and suppresses (vocabulary.csv: fits of \
            blocks.L.mlp.hook_post made with --model), --words of each.

            Example: loupe snmf features --fit reports/snmf-l15 --features 6,12 --tokens 3
            """)

        @Option(help: "A saved fit's report folder (or its snmf.json).") var fit: String
        @Option(help: "Comma-separated feature indices (default: all).") var features: String?
        @Option(help: "Neurons per feature.") var neurons = 8
        @Option(help: "Top tokens per feature.") var tokens = 5
        @Option(help: "Promoted and suppressed tokens per feature.") var words = 8
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func selection() -> [Int]? {
            features.map { $0.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? -1 } }
        }

        func validate() throws {
            if let s = selection(), s.isEmpty || s.contains(where: { $0 < 0 }) {
                throw ValidationError("--features takes comma-separated feature indices, e.g. 3,7; got '\(features!)'")
            }
            guard neurons >= 0, tokens >= 0, words >= 0 else { throw ValidationError("--neurons, --tokens and --words must be >= 0") }
        }

        func run() throws {
            let sheet = try SNMFFeatureSheet.read(fit, selection: selection(), neurons: neurons, tokens: tokens, words: words)
            if format == .json { return try Console.json(sheet) }
            Console.out("\(sheet.rank) features of \(sheet.source)")
            for f in sheet.features {
                let line = { (s: String) in s.replacingOccurrences(of: "\n", with: "⏎") }
                Console.out("\nfeature \(f.feature)")
                Console.out("  neurons: " + f.neurons.map { "\($0.neuron) (\(String(format: "%+.3f", $0.weight)))" }.joined(separator: ", "))
                for t in f.tokens { Console.out("  " + String(format: "%.4f", t.code) + "  " + line(t.context.isEmpty ? t.token : t.context)) }
                if !f.promotes.isEmpty { Console.out("  promotes: " + line(f.promotes.joined(separator: " "))) }
                if !f.suppresses.isEmpty { Console.out("  suppresses: " + line(f.suppresses.joined(separator: " "))) }
            }
        }
    }
}
