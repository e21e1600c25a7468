import Foundation
import Models
import Store
import Tokenizers

extension CausalTracing {
    /// One fact of a many-fact trace, as read and as traced.
    public struct Fact: Codable, Sendable {
        public var prompt: String
        public var subject: String
        /// The expected answer's text, when the facts file gives one.
        public var answer: String?
        /// The trace, or nil when the fact was skipped.
        public var result: Result?
        /// Why the fact was skipped.
        public var skipped: String?

        public init(prompt: String, subject: String, answer: String?, result: Result? = nil, skipped: String? = nil) {
            self.prompt = prompt
            self.subject = subject
            self.answer = answer
            self.result = result
            self.skipped = skipped
        }
    }

    /// Reads a facts file: one JSON object per line with `prompt` (or `text`), `subject` and
    /// an optional `answer` (or `target`); blank lines are skipped.
    /// - Throws: ``AnalysisError/invalid(_:)`` naming the file and line.
    public static func readFacts(_ path: String) throws -> [Fact] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AnalysisError.invalid("cannot read facts file \(path)")
        }
        var facts: [Fact] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw AnalysisError.invalid("\(path):\(i + 1): not a JSON object")
            }
            guard let prompt = (object["prompt"] ?? object["text"]) as? String, let subject = object["subject"] as? String else {
                throw AnalysisError.invalid("\(path):\(i + 1): needs string fields \"prompt\" and \"subject\"")
            }
            facts.append(.init(prompt: prompt, subject: subject, answer: (object["answer"] ?? object["target"]) as? String))
        }
        if facts.isEmpty { throw AnalysisError.invalid("\(path): no facts in the file") }
        return facts
    }

    /// Traces each fact in turn. A fact is skipped, with the reason recorded, when its subject
    /// is not in its prompt, or when it names an answer whose first token is not the model's
    /// top-1 (the model does not know it; ROME traces known facts only).
    /// - Throws: ``AnalysisError/invalid(_:)`` when no fact could be traced; errors of the pass.
    public func trace(_ facts: [Fact], tokenizer: Tokenizer, noiseStd: Float,
                      progress: (String) -> Void = { _ in }) throws -> [Fact] {
        var facts = facts
        try trace(&facts, shard: .whole, tokenizer: tokenizer, noiseStd: noiseStd, progress: progress)
        if facts.allSatisfy({ $0.result == nil }) {
            throw AnalysisError.invalid("no fact could be traced (\(facts.compactMap(\.skipped).first ?? "?"))")
        }
        return facts
    }

    /// Traces the facts `shard` owns that are not done yet (neither traced nor skipped), in
    /// order, calling `done` after each one (a sharded or resumable run saves its progress
    /// there). Each fact's noise is drawn from `config.seed` alone, so a fact's trace does not
    /// depend on which other facts a process traces.
    public func trace(_ facts: inout [Fact], shard: Shard, tokenizer: Tokenizer, noiseStd: Float,
                      progress: (String) -> Void = { _ in }, done: ([Fact]) throws -> Void = { _ in }) throws {
        let start = Date()
        let owned = shard.items(of: facts.count)
        for i in owned where facts[i].result == nil && facts[i].skipped == nil {
            let t0 = Date()
            facts[i] = try trace(facts[i], tokenizer: tokenizer, noiseStd: noiseStd)
            if let reason = facts[i].skipped {
                progress("fact \(i + 1)/\(facts.count) skipped: \(reason)")
            } else {
                progress(String(format: "fact %d/%d traced in %.1f s: %@", i + 1, facts.count, Date().timeIntervalSince(t0), facts[i].prompt))
            }
            try done(facts)
        }
        progress(String(format: "%d facts in %.1f s", owned.count, Date().timeIntervalSince(start)))
    }

    /// One fact traced, or marked skipped with the reason.
    func trace(_ fact: Fact, tokenizer: Tokenizer, noiseStd: Float) throws -> Fact {
        var fact = fact
        let ids = try tokenizer.encode(fact.prompt)
        let subject: Range<Int>
        do { subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: tokenizer) } catch {
            fact.skipped = "\(error)"
            return fact
        }
        var target: Int? = nil
        if let answer = fact.answer {
            guard let first = try tokenizer.encode(answer).first else { fact.skipped = "empty answer"; return fact }
            let top = Sampler.argmax(try model.forward([ids]).logits[0].scalars)
            if top != first {
                fact.skipped = "the model's top-1 is '\(tokenizer.tokenString(top))', not '\(tokenizer.tokenString(first))'"
                return fact
            }
            target = first
        }
        fact.result = try run(tokens: ids, subject: subject, target: target, noiseStd: noiseStd)
        return fact
    }
}
