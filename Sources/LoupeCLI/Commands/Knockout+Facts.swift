import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting
import Store

extension Loupe.Knockout {
    /// `--facts FILE`: every fact knocked out and the averages, or one shard's facts.
    func knockoutFacts(_ path: String, _ m: LoadedModel) throws {
        let config = AttentionKnockout.Config(window: window, blocks: try parsedBlocks(), blockFirst: blockFirst)
        let knockout = AttentionKnockout(model: m.transformer, config: config)
        var facts = try AttentionKnockout.readFacts(path)
        let label = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let (shard, source) = try shardOptions.resolved() {
            return try knockoutShard(shard, source: source, path: path, label: label, facts, m, knockout)
        }
        try knockout.run(&facts, shard: .whole, tokenizer: m.tokenizer, progress: Console.progress)
        if facts.allSatisfy({ $0.result == nil }) {
            throw AnalysisError.invalid("no fact could be knocked out (\(facts.compactMap(\.skipped).first ?? "?"))")
        }
        if !noReport {
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) } ?? ReportFolder(analysis: "knockout", label: label)
            try AttentionKnockout.writeFactsReport(facts, to: &folder, model: m.config.name, factsFile: path, config: config, command: commandLine())
            Console.progress("report written to \(folder.url.path)")
        }
        try Self.printFacts(facts, config: config, format: format)
    }

    /// One shard's facts, saved to `shard.json` after each fact (a rerun resumes from it).
    private func knockoutShard(_ shard: Shard, source: String, path: String, label: String, _ read: [AttentionKnockout.Fact],
                               _ m: LoadedModel, _ knockout: AttentionKnockout) throws {
        if noReport { throw ValidationError("shard \(shard) (from \(source)) saves its facts in its report folder: drop --no-report") }
        let job = KnockoutFactsJob(model: m.config.name, modelHash: try ModelIdentity(of: m).fileHash, factsFile: path, facts: read,
                                   config: knockout.config)
        var folder = try shardFolder(out: out, analysis: "knockout", label: label, shard: shard)
        let file = folder.url.appendingPathComponent(KnockoutFactsShardFile.fileName)
        var state = try KnockoutFactsShardFile.resumable(at: file, job: job, shard: shard, progress: Console.progress)
            ?? KnockoutFactsShardFile(job: job, shard: shard, total: read.count)
        var facts = read.indices.map { state.items[$0] ?? read[$0] }
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: facts.count).count) of \(facts.count) facts")
        let save = { (s: KnockoutFactsShardFile) throws in _ = try folder.write(s.encoded(), to: KnockoutFactsShardFile.fileName) }
        try save(state)
        try knockout.run(&facts, shard: shard, tokenizer: m.tokenizer, progress: Console.progress) { all in
            for i in shard.items(of: all.count) where all[i].result != nil || all[i].skipped != nil { state.items[i] = all[i] }
            try save(state)
        }
        try printShardDone(state, folder: folder, format: format)
    }

    /// Prints a many-fact knockout: the facts and averages as JSON, or the mean change per
    /// block and layer as text (what `loupe knockout --facts` and `loupe report merge` print).
    static func printFacts(_ facts: [AttentionKnockout.Fact], config: AttentionKnockout.Config, format: OutputFormat) throws {
        let results = facts.compactMap(\.result)
        let averages = AttentionKnockout.averages(results)
        if format == .json {
            struct Output: Encodable { let facts: [AttentionKnockout.Fact]; let averages: [AttentionKnockout.Block: AttentionKnockout.Average] }
            return try Console.json(Output(facts: facts, averages: averages))
        }
        Console.out("\(results.count) of \(facts.count) facts knocked out; mean % change of p(target) per layer (window \(config.window))")
        for block in config.blocks {
            guard let a = averages[block] else { continue }
            Console.out((block.rawValue + " -> last").padding(toLength: 20, withPad: " ", startingAt: 0)
                        + a.mean.map { String(format: "%5.0f", $0) }.joined())
        }
    }

    /// Writes the report of a merged job and prints what `knockout --facts` prints.
    static func writeMerged(_ job: KnockoutFactsJob, _ facts: [AttentionKnockout.Fact], out: String, command: String, format: OutputFormat) throws {
        if facts.allSatisfy({ $0.result == nil }) {
            throw AnalysisError.invalid("no fact of job \(job.id) could be knocked out (\(facts.compactMap(\.skipped).first ?? "?"))")
        }
        var folder = try ReportFolder(directory: URL(fileURLWithPath: out))
        try AttentionKnockout.writeFactsReport(facts, to: &folder, model: job.model, factsFile: job.factsFile, config: job.config, command: command)
        try printFacts(facts, config: job.config, format: format)
    }
}
