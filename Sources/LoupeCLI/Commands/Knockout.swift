import Analyses
import ArgumentParser
import Foundation
import Models
import Tokenizers
import Reporting

extension Loupe {
    /// `loupe knockout`: which attention edges into the last token carry a fact (Geva et al. 2023).
    struct Knockout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attention knockout: where the last token reads the subject (Geva et al. 2023).",
            discussion: """
            Blocks the attention edges from the last position to the subject's tokens (subject), \
            to the other tokens (non-subject), or to itself (last), in a window of --window \
            layers around each layer, and reports the relative change in the target's \
            probability per layer. A large drop around layer L means the last position needs \
            what it reads from those tokens there. The target defaults to the clean top-1 token. \
            Edges to position 0, the attention sink, are kept unless --block-first.

            Many facts: --facts FILE (the format of `loupe trace --facts`: one JSON object per \
            line with prompt, subject and an optional answer) knocks out each fact (skipping, \
            with the reason, a subject not in its prompt or an answer that is not the model's \
            top-1) and averages the relative change per block and layer over the facts, with \
            95% intervals: facts.csv, averages.csv, averages.svg, summary.txt and index.html \
            (default reports/knockout-<facts file>). With --shard I/N (or a job array's \
            variables, see --shard) a process runs the facts whose line index mod N is I and \
            saves them to OUT-shard-I-of-N/shard.json (a rerun resumes); `loupe report merge \
            OUT DIRS...` writes the report one process writes. Example:
              loupe knockout --facts probes/facts/six-facts.jsonl --window 5
              loupe knockout --facts probes/facts/six-facts.jsonl --out reports/k --shard 0/2
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The prompt.") var prompt: String?
        @Option(help: "The subject: text of the prompt.") var subject: String?
        @Option(help: "A facts file (JSON lines with prompt, subject and an optional answer), instead of --prompt/--subject.")
        var facts: String?
        @Option(help: "Target token text (a single token); default: the clean top-1.") var target: String?
        @Option(help: "Layers blocked together around each layer.") var window = 9
        @Option(help: "Comma-separated edges to block: subject, non-subject, last.") var blocks = "subject,non-subject,last"
        @Flag(help: "Also block edges to position 0 (the attention sink; off by default because blocking it breaks attention everywhere).")
        var blockFirst = false
        @Option(help: "Report folder (default: reports/knockout-<subject>).") var out: String?
        @Flag(help: "Do not write a report folder.") var noReport = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func parsedBlocks() throws -> [AttentionKnockout.Block] {
            let list = try blocks.split(separator: ",").map { name in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard let b = AttentionKnockout.Block(rawValue: name) else {
                    throw ValidationError("unknown block '\(name)': choose from \(AttentionKnockout.Block.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return b
            }
            if list.isEmpty { throw ValidationError("--blocks names nothing to block") }
            return list
        }

        func validate() throws {
            if facts == nil && (prompt == nil || subject == nil) { throw ValidationError("give --prompt and --subject, or --facts FILE") }
            if facts != nil && (prompt != nil || subject != nil || target != nil) {
                throw ValidationError("--facts takes each fact's prompt, subject and answer from the file: drop --prompt, --subject and --target")
            }
            if facts == nil && shardOptions.shard != nil { throw ValidationError("--shard splits a --facts file's facts over processes: give --facts") }
            if !(1...1024).contains(window) { throw ValidationError("--window must be between 1 and 1024 layers, not \(window)") }
            _ = try parsedBlocks()
        }

        func run() throws {
            let m = try modelOptions.load()
            if let facts { return try knockoutFacts(facts, m) }
            guard let prompt, let subject else { throw ValidationError("give --prompt and --subject, or --facts FILE") }
            let ids = try m.tokenizer.encode(prompt)
            let subjectRange = try SubjectLocator.range(of: subject, in: ids, tokenizer: m.tokenizer)
            let targetID = try target.map { try singleToken($0, m) }
            let result = try AttentionKnockout(model: m.transformer, config: .init(window: window, blocks: try parsedBlocks(), blockFirst: blockFirst))
                .run(tokens: ids, subject: subjectRange, target: targetID)
            let tokens = ids.map { m.tokenizer.tokenString($0) }
            let targetText = m.tokenizer.tokenString(result.target)
            if !noReport {
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                    ?? ReportFolder(analysis: "knockout", label: subject)
                try result.writeReport(to: &folder, model: m.config.name, prompt: prompt, subjectText: subject,
                                       tokens: tokens, targetToken: targetText, command: commandLine())
                Console.progress("report written to \(folder.url.path)")
            }
            if format == .json { return try Console.json(result) }
            Console.out("target '\(targetText)': clean p = \(fmt(result.cleanProbability)); % change per layer (window \(window))")
            for block in result.config.blocks {
                let change = result.relativeChange(block)!
                Console.out((block.rawValue + " -> last").padding(toLength: 20, withPad: " ", startingAt: 0)
                            + change.map { String(format: "%5.0f", $0) }.joined())
            }
        }
    }
}
