import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting

extension Loupe.Trace {
    /// Reads a facts file: one JSON object per line with `prompt` (or `text`), `subject` and
    /// an optional `answer` (or `target`). Errors name the line.
    static func readFacts(_ path: String) throws -> [CausalTracing.Fact] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read facts file \(path)")
        }
        var facts: [CausalTracing.Fact] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ValidationError("\(path):\(i + 1): not a JSON object")
            }
            guard let prompt = (object["prompt"] ?? object["text"]) as? String, let subject = object["subject"] as? String else {
                throw ValidationError("\(path):\(i + 1): needs string fields \"prompt\" and \"subject\"")
            }
            facts.append(.init(prompt: prompt, subject: subject, answer: (object["answer"] ?? object["target"]) as? String))
        }
        if facts.isEmpty { throw ValidationError("\(path): no facts in the file") }
        return facts
    }

    func traceFacts(_ path: String, _ m: LoadedModel, lanes: Int) throws {
        var facts = try Self.readFacts(path)
        let config = CausalTracing.Config(samples: samples, noiseMultiplier: noiseMultiplier, seed: seed, window: window,
                                          kinds: try parsedKinds(), lanes: lanes)
        let std = NoiseLevel.embeddingStd(m) * noiseMultiplier
        let tracer = CausalTracing(model: m.transformer, config: config)
        let start = Date()
        for i in facts.indices {
            let fact = facts[i]
            let ids = m.tokenizer.encode(fact.prompt)
            let subject: Range<Int>
            do { subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: m.tokenizer) } catch {
                facts[i].skipped = "\(error)"
                Console.progress("fact \(i + 1)/\(facts.count) skipped: \(error)")
                continue
            }
            var target: Int? = nil
            if let answer = fact.answer {
                guard let first = m.tokenizer.encode(answer).first else { facts[i].skipped = "empty answer"; continue }
                let top = Sampler.argmax(try m.transformer.forward([ids]).logits[0].scalars)
                if top != first {
                    facts[i].skipped = "the model's top-1 is '\(m.tokenizer.tokenString(top))', not '\(m.tokenizer.tokenString(first))'"
                    Console.progress("fact \(i + 1)/\(facts.count) skipped: \(facts[i].skipped!)")
                    continue
                }
                target = first
            }
            let t0 = Date()
            facts[i].result = try tracer.run(tokens: ids, subject: subject, target: target, noiseStd: std)
            Console.progress(String(format: "fact %d/%d traced in %.1f s: %@", i + 1, facts.count, Date().timeIntervalSince(t0), fact.prompt))
        }
        Console.progress(String(format: "%d facts in %.1f s", facts.count, Date().timeIntervalSince(start)))
        let traced = facts.compactMap(\.result)
        if traced.isEmpty { throw ValidationError("\(path): no fact could be traced (\(facts.compactMap(\.skipped).first ?? "?"))") }
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
