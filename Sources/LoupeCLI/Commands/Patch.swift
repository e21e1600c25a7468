import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension ActivationPatching.Direction: ExpressibleByArgument {}

extension Loupe {
    /// `loupe patch`: activation patching between a clean and a corrupted prompt.
    struct Patch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Activation patching: which activations carry the difference between two prompts.",
            discussion: """
            Runs a clean prompt (the model should give --answer) and a corrupted prompt of the \
            same token length (it should push toward --wrong), then copies one activation at a \
            time from one run into the other: clean into corrupted (denoising, the default: what \
            suffices to restore the answer) or corrupted into clean (noising: what is necessary \
            for it). Sites: resid_pre, attn_out and mlp_out per (layer, position), and z (each \
            head's output at every position) per layer. Each cell is the logit difference \
            answer - wrong, normalized so that 0 is the corrupted run and 1 the clean run; the \
            answer's probability is reported too (CSV, JSON), and for both metrics the indirect \
            effect, the patched run minus the base run (ie_logit_diff, ie_p_answer; \
            indirectEffects in JSON). When the clean and corrupted runs have the same logit \
            difference there is no normalized scale: it is reported as nan (null in JSON), never \
            as 1.

            Example: loupe patch --clean "The Eiffel Tower is in the city of" \
            --corrupt "The Colosseum is in the city of" --answer " Paris" --wrong " Rome"

            Many pairs: --pairs FILE (JSON lines with clean, corrupt, answer and wrong) patches \
            each pair (skipping, with the reason, prompts of different token counts or answers \
            that are not single tokens) and averages the normalized logit difference per site \
            and layer over the pairs with a normalized scale, with 95% intervals: for \
            resid_pre, attn_out and mlp_out at the positions where the prompts differ \
            (changed) and at the last position, for z per head. Writes pairs.csv, averages.csv, \
            averages.svg, summary.txt and index.html (default reports/patch-<pairs file>). \
            With --shard I/N (or a job array's variables, see --shard) a process patches the \
            pairs whose line index mod N is I into OUT-shard-I-of-N/shard.json (a rerun \
            resumes); `loupe report merge OUT DIRS...` writes the report one process writes.
              loupe patch --pairs pairs.jsonl --out reports/pp --shard 0/2
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The clean prompt.") var clean: String?
        @Option(help: "The corrupted prompt (same number of tokens).") var corrupt: String?
        @Option(help: "The clean answer (a single token, e.g. \" Paris\").") var answer: String?
        @Option(help: "The corrupted prompt's answer (a single token, e.g. \" Rome\").") var wrong: String?
        @Option(help: "A pairs file (JSON lines with clean, corrupt, answer, wrong), instead of the four options.") var pairs: String?
        @Option(help: "denoising (clean into corrupted) or noising (corrupted into clean).")
        var direction: ActivationPatching.Direction = .denoising
        @Option(help: "Comma-separated sites: resid_pre, attn_out, mlp_out, z.") var sites = "resid_pre,attn_out,mlp_out,z"
        @Option(help: "Comma-separated layers to patch (default: all).") var layers: String?
        @Option(help: "Report folder (default: reports/patch-<clean prompt>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func parsedSites() throws -> [ActivationPatching.Site] {
            try sites.split(separator: ",").map { name in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard let site = ActivationPatching.Site(rawValue: name) else {
                    throw ValidationError("unknown site '\(name)': choose from \(ActivationPatching.Site.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return site
            }
        }

        func validate() throws {
            let single = [clean, corrupt, answer, wrong]
            if pairs == nil && single.contains(where: { $0 == nil }) { throw ValidationError("give --clean, --corrupt, --answer and --wrong, or --pairs FILE") }
            if pairs != nil && single.contains(where: { $0 != nil }) {
                throw ValidationError("--pairs takes each pair's prompts and answers from the file: drop --clean, --corrupt, --answer and --wrong")
            }
            if pairs == nil && shardOptions.shard != nil { throw ValidationError("--shard splits a --pairs file's pairs over processes: give --pairs") }
            if try parsedSites().isEmpty { throw ValidationError("--sites names no site") }
            _ = try parsedLayers(limit: Int.max)
        }

        func parsedLayers(limit: Int) throws -> [Int]? {
            guard let layers else { return nil }
            return try layers.split(separator: ",").map { s in
                guard let l = Int(s.trimmingCharacters(in: .whitespaces)), l >= 0, l < limit else {
                    throw ValidationError("--layers: '\(s)' is not a layer" + (limit == Int.max ? "" : " of 0..<\(limit)"))
                }
                return l
            }
        }

        func run() throws {
            let m = try modelOptions.load()
            if let pairs { return try patchPairs(pairs, m) }
            guard let clean, let corrupt, let answer, let wrong else { throw ValidationError("give --clean, --corrupt, --answer and --wrong, or --pairs FILE") }
            let cleanIDs = try m.tokenizer.encode(clean), corruptIDs = try m.tokenizer.encode(corrupt)
            let show = { (ids: [Int]) in ids.map { "'\(m.tokenizer.tokenString($0))'" }.joined(separator: " ") }
            guard cleanIDs.count == corruptIDs.count else {
                throw ValidationError("""
                    the prompts must have the same number of tokens for patching:
                      clean   (\(cleanIDs.count)): \(show(cleanIDs))
                      corrupt (\(corruptIDs.count)): \(show(corruptIDs))
                    """)
            }
            let answerID = try singleToken(answer, m), wrongID = try singleToken(wrong, m)
            let config = ActivationPatching.Config(direction: direction, sites: try parsedSites(),
                                                   layers: try parsedLayers(limit: m.config.nLayers))
            let start = Date()
            Console.progress("patching \(cleanIDs.count) tokens x \(m.config.nLayers) layers, sites \(config.sites.map(\.rawValue).joined(separator: ", "))")
            let lanes = SweepLanes()
            defer { lanes.restore() }
            let result = try ActivationPatching(model: m.transformer, config: config)
                .run(clean: cleanIDs, corrupted: corruptIDs, answer: answerID, wrong: wrongID, lanes: lanes.count)
            Console.progress(String(format: "patched in %.2f s (%d lane%@)", Date().timeIntervalSince(start), lanes.count, lanes.count == 1 ? "" : "s"))
            let cleanText = cleanIDs.map { m.tokenizer.tokenString($0) }, corruptText = corruptIDs.map { m.tokenizer.tokenString($0) }
            if !noReport {
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                    ?? ReportFolder(analysis: "patch", label: clean)
                try result.writeReport(to: &folder, model: m.config.name, cleanPrompt: clean, corruptedPrompt: corrupt,
                                       cleanTokenText: cleanText, corruptedTokenText: corruptText,
                                       answerText: answer, wrongText: wrong, command: commandLine())
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            Console.out("logit diff '\(answer)' - '\(wrong)': clean \(fmt(result.clean.logitDifference)), corrupted \(fmt(result.corrupted.logitDifference))")
            Console.out("p('\(answer)'): clean \(fmt(result.clean.probability)), corrupted \(fmt(result.corrupted.probability))")
            let labels = result.labels(cleanText, corruptText)
            for site in config.sites {
                let grid = result.normalizedGrid(site)!
                Console.out("\n\(site.rawValue) (\(direction.rawValue)): normalized logit diff x 100 per \(site.isPerHead ? "head" : "token") (rows) and layer (columns)")
                for column in 0..<(grid.first?.count ?? 0) {
                    let name = site.isPerHead ? "head \(column)" : labels[column]
                    let mark = !site.isPerHead && cleanIDs[column] != corruptIDs[column] ? "*" : " "
                    Console.out((mark + name).padding(toLength: 16, withPad: " ", startingAt: 0)
                                + grid.map { $0[column].isNaN ? "   ." : String(format: "%4.0f", $0[column] * 100) }.joined())
                }
            }
        }
    }
}
