import Analyses
import ArgumentParser
import Foundation
import Probes
import Reporting
import Store

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
                Each DIR is the report folder of one shard of `loupe trace --facts F --shard I/N`, \
                `loupe knockout --facts F --shard I/N`, `loupe patch --pairs F --shard I/N`, \
                `loupe probe train --shard I/N`, `loupe steer \
                sweep --shard I/N` or `loupe sae eval --shard I/N`: its shard.json holds the job \
                (model, items in order and settings) and the items it finished (facts, pairs, \
                hooks, layers or batches' sums). \
                The shards must all belong to one job, cover 0..N-1 once each and be finished; \
                the merge names any folder that breaks this. Averages and confidence intervals are \
                recomputed from the per-item results, so OUT holds the numbers, CSVs and figures a \
                single process writes.

                Example:
                  loupe trace --facts probes/facts/six-facts.jsonl --shard 0/2
                  loupe trace --facts probes/facts/six-facts.jsonl --shard 1/2
                  loupe report merge reports/trace-six-facts reports/trace-six-facts-shard-*-of-2

                See docs/SCALE.md for Slurm, Kubernetes and GNU parallel recipes.
                """)
            @Argument(help: "The merged report's folder.") var out: String
            @Argument(help: "The shards' report folders.") var shards: [String] = []
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            func validate() throws {
                if shards.isEmpty { throw ValidationError("give the shards' report folders after OUT") }
            }

            func run() throws {
                let first = URL(fileURLWithPath: shards[0]).appendingPathComponent(ShardFile<ProbeJob, ProbeHookResult>.fileName)
                let kind = FileManager.default.contents(atPath: first.path).flatMap(ShardFileKind.analysis(in:))
                switch kind {
                case ProbeJob.analysisName:
                    let (job, results) = try ProbeShardFile.merge(readShards(ProbeShardFile.self, shards))
                    try Loupe.ProbeTrain.writeMerged(job, results, out: out, command: commandLine(), format: format)
                    Console.progress("merged \(shards.count) shards of job \(job.id) into \(out)")
                case SteeringSweepJob.analysisName:
                    let (job, layers) = try SteeringSweepShardFile.merge(readShards(SteeringSweepShardFile.self, shards))
                    try Loupe.Steer.Sweep.writeMerged(job, try SteeringSweep.Result.joined(layers), out: out, command: commandLine(), format: format)
                    Console.progress("merged \(shards.count) shards of job \(job.id) into \(out)")
                case SAEEvaluationJob.analysisName:
                    let (job, batches) = try SAEEvaluationShardFile.merge(readShards(SAEEvaluationShardFile.self, shards))
                    try Loupe.SAE.Eval.writeMerged(job, batches, out: out, format: format)
                    Console.progress("merged \(shards.count) shards of job \(job.id) into \(out)")
                case KnockoutFactsJob.analysisName:
                    let (job, facts) = try KnockoutFactsShardFile.merge(readShards(KnockoutFactsShardFile.self, shards))
                    try Loupe.Knockout.writeMerged(job, facts, out: out, command: commandLine(), format: format)
                    Console.progress("merged \(shards.count) shards of job \(job.id) into \(out)")
                case PatchPairsJob.analysisName:
                    let (job, pairs) = try PatchPairsShardFile.merge(readShards(PatchPairsShardFile.self, shards))
                    try Loupe.Patch.writeMerged(job, pairs, out: out, command: commandLine(), format: format)
                    Console.progress("merged \(shards.count) shards of job \(job.id) into \(out)")
                default:
                    try mergeFacts()
                }
            }

            /// The shards of `loupe trace --facts`.
            func mergeFacts() throws {
                let (job, facts) = try CausalTracing.FactsShard.merge(readShards(CausalTracing.FactsShard.self, shards))
                if facts.allSatisfy({ $0.result == nil }) {
                    throw AnalysisError.invalid("no fact of job \(job.id) could be traced (\(facts.compactMap(\.skipped).first ?? "?"))")
                }
                var folder = try ReportFolder(directory: URL(fileURLWithPath: out))
                try CausalTracing.writeFactsReport(facts, to: &folder, model: job.model, factsFile: job.factsFile, config: job.config,
                                                   noiseStd: job.noiseStd, command: commandLine())
                Console.progress("merged \(shards.count) shards of job \(job.id) into \(folder.url.path)")
                try printFacts(facts, kinds: job.kinds, format: format)
            }
        }
    }
}
