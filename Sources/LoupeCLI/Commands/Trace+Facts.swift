import Analyses
import ArgumentParser
import Foundation
import Models
import Store
import Tokenizers
import Reporting

extension Loupe.Trace {
    func traceFacts(_ path: String, _ m: LoadedModel, lanes: Int) throws {
        let config = CausalTracing.Config(samples: samples, noiseMultiplier: noiseMultiplier, seed: seed, window: window,
                                          kinds: try parsedKinds(), lanes: lanes)
        let std = try NoiseLevel.embeddingStd(m) * noiseMultiplier
        let tracing = CausalTracing(model: m.transformer, config: config)
        let label = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let (shard, source) = try shardOptions.resolved() {
            return try traceShard(shard, source: source, path: path, label: label, m, tracing, std)
        }
        let facts = try tracing.trace(try CausalTracing.readFacts(path), tokenizer: m.tokenizer, noiseStd: std,
                                      progress: Console.progress)
        if !noReport {
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                ?? ReportFolder(analysis: "trace", label: label)
            try CausalTracing.writeFactsReport(facts, to: &folder, model: m.config.name, factsFile: path, config: config,
                                               noiseStd: std, command: commandLine())
            Console.progress("report written to \(folder.url.path)")
        }
        try printFacts(facts, kinds: config.kinds, format: format)
    }

    /// One shard's facts, saved to `shard.json` after each fact (a rerun resumes from it).
    private func traceShard(_ shard: Shard, source: String, path: String, label: String, _ m: LoadedModel,
                            _ tracing: CausalTracing, _ std: Float) throws {
        if noReport { throw ValidationError("shard \(shard) (from \(source)) saves its facts in its report folder: drop --no-report") }
        var facts = try CausalTracing.readFacts(path)
        let job = CausalTracing.FactsJob(model: m.config.name, modelHash: try ModelIdentity(of: m).fileHash, factsFile: path,
                                         facts: facts, config: tracing.config, noiseStd: std)
        var folder = try shardFolder(out: out, analysis: "trace", label: label, shard: shard)
        let file = folder.url.appendingPathComponent(CausalTracing.FactsShard.fileName)
        if let saved = try CausalTracing.FactsShard.resumable(at: file, job: job, shard: shard, progress: Console.progress) {
            facts = saved.facts
        }
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: facts.count).count) of \(facts.count) facts")
        let save = { (facts: [CausalTracing.Fact]) throws in
            _ = try folder.write(CausalTracing.FactsShard(job: job, shard: shard, facts: facts).encoded(),
                                 to: CausalTracing.FactsShard.fileName)
        }
        try save(facts)
        try tracing.trace(&facts, shard: shard, tokenizer: m.tokenizer, noiseStd: std, progress: Console.progress, done: save)
        let mine = shard.items(of: facts.count).map { facts[$0] }
        let message = "shard \(shard) of job \(job.id): \(mine.filter { $0.result != nil }.count) of \(mine.count) facts traced, "
            + "saved in \(file.path); when every shard is done: loupe report merge OUT \(folder.url.path) ..."
        if format == .json {
            struct Output: Encodable { let shard: Shard; let job: String; let file: String; let facts: [CausalTracing.Fact] }
            return try Console.json(Output(shard: shard, job: job.id, file: file.path, facts: mine))
        }
        Console.out(message)
    }
}

/// Prints a many-fact trace: the facts and role averages as JSON, or the role averages per
/// layer as text (what `loupe trace --facts` and `loupe report merge` print).
func printFacts(_ facts: [CausalTracing.Fact], kinds: [CausalTracing.Kind], format: OutputFormat) throws {
    let traced = facts.compactMap(\.result)
    let averages = CausalTracing.roleAverages(traced)
    if format == .json {
        struct Output: Encodable {
            let facts: [CausalTracing.Fact]
            let roleAverages: [CausalTracing.Kind: [CausalTracing.TokenRole: CausalTracing.RoleCurve]]
        }
        return try Console.json(Output(facts: facts, roleAverages: averages))
    }
    Console.out("\(traced.count) of \(facts.count) facts traced; average indirect effect x 100 per layer")
    for kind in kinds {
        Console.out("\n\(kind.rawValue)")
        for role in CausalTracing.TokenRole.allCases {
            guard let curve = averages[kind]?[role] else { continue }
            Console.out("\(role.rawValue) (\(curve.facts))".padding(toLength: 28, withPad: " ", startingAt: 0)
                        + curve.mean.map { String(format: "%4.0f", $0 * 100) }.joined())
        }
    }
}
