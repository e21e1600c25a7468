import Analyses
import ArgumentParser
import Foundation
import Reporting

extension Loupe {
    /// `loupe report`: work on report folders.
    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Work on report folders: merge the shards of a sharded run.",
            subcommands: [Merge.self])

        /// `loupe report merge`.
        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Join the folders of a sharded run into the report one process would write.",
                discussion: """
                Each DIR is the report folder of one shard (`loupe trace --facts F --shard I/N`): \
                its shard.json holds the job (model, facts and settings) and the facts it traced. \
                The shards must all belong to one job, cover 0..N-1 once each and be finished; \
                the merge names any folder that breaks this. Averages and confidence intervals are \
                recomputed from the per-fact results, so OUT holds the numbers, CSVs and figures a \
                single process writes.

                Example:
                  loupe trace --facts probes/facts/six-facts.jsonl --shard 0/2
                  loupe trace --facts probes/facts/six-facts.jsonl --shard 1/2
                  loupe report merge reports/trace-six-facts reports/trace-six-facts-shard-*-of-2
                """)
            @Argument(help: "The merged report's folder.") var out: String
            @Argument(help: "The shards' report folders.") var shards: [String] = []
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            func validate() throws {
                if shards.isEmpty { throw ValidationError("give the shards' report folders after OUT") }
            }

            func run() throws {
                let parts = try shards.map { dir in
                    (folder: dir, shard: try CausalTracing.FactsShard.read(
                        URL(fileURLWithPath: dir).appendingPathComponent(CausalTracing.FactsShard.fileName)))
                }
                let (job, facts) = try CausalTracing.FactsShard.merge(parts)
                if facts.allSatisfy({ $0.result == nil }) {
                    throw AnalysisError.invalid("no fact of job \(job.id) could be traced (\(facts.compactMap(\.skipped).first ?? "?"))")
                }
                var folder = try ReportFolder(directory: URL(fileURLWithPath: out))
                try CausalTracing.writeFactsReport(facts, to: &folder, model: job.model, factsFile: job.factsFile, config: job.config,
                                                   noiseStd: job.noiseStd, command: commandLine())
                Console.progress("merged \(parts.count) shards of job \(job.id) into \(folder.url.path)")
                try printFacts(facts, kinds: job.kinds, format: format)
            }
        }
    }
}
