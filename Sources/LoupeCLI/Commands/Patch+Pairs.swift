import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting
import Store

extension Loupe.Patch {
    /// `--pairs FILE`: every pair patched and the averages, or one shard's pairs.
    func patchPairs(_ path: String, _ m: LoadedModel) throws {
        let config = ActivationPatching.Config(direction: direction, sites: try parsedSites(), layers: try parsedLayers(limit: m.config.nLayers))
        let patching = ActivationPatching(model: m.transformer, config: config)
        var pairs = try ActivationPatching.readPairs(path)
        let label = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let lanes = SweepLanes()
        defer { lanes.restore() }
        if let (shard, source) = try shardOptions.resolved() {
            return try patchShard(shard, source: source, path: path, label: label, pairs, m, patching, lanes: lanes.count)
        }
        try patching.run(&pairs, shard: .whole, tokenizer: m.tokenizer, lanes: lanes.count, progress: Console.progress)
        if pairs.allSatisfy({ $0.result == nil }) {
            throw AnalysisError.invalid("no pair could be patched (\(pairs.compactMap(\.skipped).first ?? "?"))")
        }
        if !noReport {
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) } ?? ReportFolder(analysis: "patch", label: label)
            try ActivationPatching.writePairsReport(pairs, to: &folder, model: m.config.name, pairsFile: path, config: config, command: commandLine())
            Console.progress("report written to \(folder.url.path)")
        }
        try Self.printPairs(pairs, config: config, format: format)
    }

    /// One shard's pairs, saved to `shard.json` after each pair (a rerun resumes from it).
    private func patchShard(_ shard: Shard, source: String, path: String, label: String, _ read: [ActivationPatching.Pair],
                            _ m: LoadedModel, _ patching: ActivationPatching, lanes: Int) throws {
        if noReport { throw ValidationError("shard \(shard) (from \(source)) saves its pairs in its report folder: drop --no-report") }
        let job = PatchPairsJob(model: m.config.name, modelHash: try ModelIdentity(of: m).fileHash, pairsFile: path, pairs: read,
                                config: patching.config)
        var folder = try shardFolder(out: out, analysis: "patch", label: label, shard: shard)
        let file = folder.url.appendingPathComponent(PatchPairsShardFile.fileName)
        var state = try PatchPairsShardFile.resumable(at: file, job: job, shard: shard, progress: Console.progress)
            ?? PatchPairsShardFile(job: job, shard: shard, total: read.count)
        var pairs = read.indices.map { state.items[$0] ?? read[$0] }
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: pairs.count).count) of \(pairs.count) pairs")
        let save = { (s: PatchPairsShardFile) throws in _ = try folder.write(s.encoded(), to: PatchPairsShardFile.fileName) }
        try save(state)
        try patching.run(&pairs, shard: shard, tokenizer: m.tokenizer, lanes: lanes, progress: Console.progress) { all in
            for i in shard.items(of: all.count) where all[i].result != nil || all[i].skipped != nil { state.items[i] = all[i] }
            try save(state)
        }
        try printShardDone(state, folder: folder, format: format)
    }

    /// Prints a many-pair patching run: the pairs and averages as JSON, or each site's group
    /// means x 100 per layer as text (what `patch --pairs` and `loupe report merge` print).
    static func printPairs(_ pairs: [ActivationPatching.Pair], config: ActivationPatching.Config, format: OutputFormat) throws {
        let results = pairs.compactMap(\.result)
        let averages = ActivationPatching.averages(results, sites: config.sites)
        if format == .json {
            struct Output: Encodable {
                let pairs: [ActivationPatching.Pair]
                let averages: [ActivationPatching.Site: [String: ActivationPatching.Average]]
            }
            return try Console.json(Output(pairs: pairs, averages: averages))
        }
        Console.out("\(results.count) of \(pairs.count) pairs patched (\(config.direction.rawValue)); mean normalized logit diff x 100 per layer")
        for site in config.sites {
            guard let bySite = averages[site] else { continue }
            Console.out("\n\(site.rawValue)")
            for name in ActivationPatching.groupNames(bySite, site: site) {
                Console.out(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                            + bySite[name]!.mean.map { $0.isNaN ? "   ." : String(format: "%4.0f", $0 * 100) }.joined())
            }
        }
    }

    /// Writes the report of a merged job and prints what `patch --pairs` prints.
    static func writeMerged(_ job: PatchPairsJob, _ pairs: [ActivationPatching.Pair], out: String, command: String, format: OutputFormat) throws {
        if pairs.allSatisfy({ $0.result == nil }) {
            throw AnalysisError.invalid("no pair of job \(job.id) could be patched (\(pairs.compactMap(\.skipped).first ?? "?"))")
        }
        var folder = try ReportFolder(directory: URL(fileURLWithPath: out))
        try ActivationPatching.writePairsReport(pairs, to: &folder, model: job.model, pairsFile: job.pairsFile, config: job.config, command: command)
        try printPairs(pairs, config: job.config, format: format)
    }
}
