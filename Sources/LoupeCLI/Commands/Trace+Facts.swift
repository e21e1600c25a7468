import Analyses
import ArgumentParser
import Foundation
import Models
import Tokenizers
import Reporting

extension Loupe.Trace {
    func traceFacts(_ path: String, _ m: LoadedModel, lanes: Int) throws {
        let config = CausalTracing.Config(samples: samples, noiseMultiplier: noiseMultiplier, seed: seed, window: window,
                                          kinds: try parsedKinds(), lanes: lanes)
        let std = try NoiseLevel.embeddingStd(m) * noiseMultiplier
        let facts = try CausalTracing(model: m.transformer, config: config)
            .trace(try CausalTracing.readFacts(path), tokenizer: m.tokenizer, noiseStd: std, progress: Console.progress)
        let traced = facts.compactMap(\.result)
        let averages = CausalTracing.roleAverages(traced)
        if !noReport {
            let label = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                ?? ReportFolder(analysis: "trace", label: label)
            try CausalTracing.writeFactsReport(facts, to: &folder, model: m.config.name, factsFile: path, config: config,
                                               noiseStd: std, command: commandLine())
            Console.progress("report written to \(folder.url.path)")
        }
        if format == .json {
            struct Output: Encodable {
                let facts: [CausalTracing.Fact]
                let roleAverages: [CausalTracing.Kind: [CausalTracing.TokenRole: CausalTracing.RoleCurve]]
            }
            return try Console.json(Output(facts: facts, roleAverages: averages))
        }
        Console.out("\(traced.count) of \(facts.count) facts traced; average indirect effect x 100 per layer")
        for kind in config.kinds {
            Console.out("\n\(kind.rawValue)")
            for role in CausalTracing.TokenRole.allCases {
                guard let curve = averages[kind]?[role] else { continue }
                Console.out("\(role.rawValue) (\(curve.facts))".padding(toLength: 28, withPad: " ", startingAt: 0)
                            + curve.mean.map { String(format: "%4.0f", $0 * 100) }.joined())
            }
        }
    }
}
