import Foundation
import Models
import Store
import Tokenizers

extension AttentionKnockout {
    /// One fact of a many-fact knockout, as read and as run.
    public struct Fact: Codable, Sendable {
        public var prompt: String
        public var subject: String
        /// The expected answer's text, when the facts file gives one.
        public var answer: String?
        /// The knockout, or nil when the fact was skipped.
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

    /// The facts of a facts file (the format of `loupe trace --facts`, read by
    /// ``CausalTracing/readFacts(_:)``).
    /// - Throws: ``AnalysisError/invalid(_:)`` naming the file and line.
    public static func readFacts(_ path: String) throws -> [Fact] {
        try CausalTracing.readFacts(path).map { Fact(prompt: $0.prompt, subject: $0.subject, answer: $0.answer) }
    }

    /// Knocks out the facts `shard` owns that are not done yet (neither run nor skipped), in
    /// order, calling `done` after each. A fact is skipped, with the reason, when its subject is
    /// not in its prompt or it names an answer whose first token is not the model's top-1 (as
    /// `trace --facts` does). A fact's numbers do not depend on the other facts run.
    public func run(_ facts: inout [Fact], shard: Shard, tokenizer: Tokenizer, progress: (String) -> Void = { _ in },
                    done: ([Fact]) throws -> Void = { _ in }) throws {
        for i in shard.items(of: facts.count) where facts[i].result == nil && facts[i].skipped == nil {
            facts[i] = try run(facts[i], tokenizer: tokenizer)
            progress(facts[i].skipped.map { "fact \(i + 1)/\(facts.count) skipped: \($0)" } ?? "fact \(i + 1)/\(facts.count): \(facts[i].prompt)")
            try done(facts)
        }
    }

    /// One fact knocked out, or marked skipped with the reason.
    func run(_ fact: Fact, tokenizer: Tokenizer) throws -> Fact {
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
        fact.result = try run(tokens: ids, subject: subject, target: target)
        return fact
    }

    /// The relative change in percent of each block, per layer, averaged over `results` with a
    /// 95% Student t interval (as `trace --facts` averages its roles).
    public struct Average: Codable, Sendable {
        public var mean: [Double]
        public var lower: [Double]
        public var upper: [Double]
        /// Facts averaged.
        public var facts: Int
    }

    /// Per block, the average over `results` of the per-layer relative change (non-finite
    /// values, from a clean probability of 0, left out per layer).
    public static func averages(_ results: [Result]) -> [Block: Average] {
        var out: [Block: Average] = [:]
        guard let first = results.first else { return out }
        for block in first.config.blocks {
            let changes = results.compactMap { $0.relativeChange(block) }
            guard let layers = changes.first?.count else { continue }
            var a = Average(mean: [], lower: [], upper: [], facts: changes.count)
            for l in 0..<layers {
                let values = changes.map { $0[l] }.filter(\.isFinite)
                let (mean, half) = values.isEmpty ? (Double.nan, 0) : CausalTracing.meanAndHalfWidth(values)
                a.mean.append(mean)
                a.lower.append(mean - half)
                a.upper.append(mean + half)
            }
            out[block] = a
        }
        return out
    }
}

/// What makes two sharded many-fact knockouts the same job: the model, the facts in order and
/// the knockout's settings.
public struct KnockoutFactsJob: ShardedJob, Equatable {
    public static let analysisName = "knockout-facts"
    public static let itemNoun = "facts"
    public var model: String
    public var modelHash: String
    /// The facts file as given (informational, not compared).
    public var factsFile: String
    /// Each fact's prompt, subject and answer, in file order.
    public var facts: [String]
    public var config: AttentionKnockout.Config

    public init(model: String, modelHash: String, factsFile: String, facts: [AttentionKnockout.Fact], config: AttentionKnockout.Config) {
        self.model = model
        self.modelHash = modelHash
        self.factsFile = factsFile
        self.facts = facts.map { [$0.prompt, $0.subject, $0.answer ?? "∅"].joined(separator: "\u{1f}") }
        self.config = config
    }

    /// Everything compared, hashed and shortened.
    public var id: String {
        var hash = ContentHash()
        hash.combine(model)
        hash.combine(modelHash)
        for f in facts { hash.combine(f) }
        hash.combine("\(config.window) \(config.blocks.map(\.rawValue)) \(config.blockFirst)")
        return String(hash.hex.prefix(12))
    }

    /// Equal in everything but the facts file's path.
    public func sameJob(as other: KnockoutFactsJob) -> Bool {
        var a = self, b = other
        (a.factsFile, b.factsFile) = ("", "")
        return a == b
    }
}

/// A sharded many-fact knockout's progress: each fact once run or skipped.
public typealias KnockoutFactsShardFile = ShardFile<KnockoutFactsJob, AttentionKnockout.Fact>
