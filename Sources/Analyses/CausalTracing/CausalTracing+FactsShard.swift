import Foundation
import Store

extension CausalTracing {
    /// What makes two many-fact traces the same job: the model, the facts in order, and every
    /// setting that changes a number. Shards of one job merge; anything else is refused.
    /// (Threads and batching are left out: they change sgemm's last bits at most.)
    public struct FactsJob: ShardedJob, Equatable {
        public static let analysisName = "trace-facts"
        public static let itemNoun = "facts"
        /// The model's name and ``Store/ContentHash`` of its file(s).
        public var model: String
        public var modelHash: String
        /// The facts file as given (informational, not compared).
        public var factsFile: String
        /// Each fact's prompt, subject and answer, in file order.
        public var facts: [String]
        public var samples: Int
        public var noiseMultiplier: Float
        public var noiseStd: Float
        public var seed: UInt64
        public var window: Int
        public var kinds: [Kind]
        public var layers: [Int]?

        public init(model: String, modelHash: String, factsFile: String, facts: [Fact], config: Config, noiseStd: Float) {
            self.model = model
            self.modelHash = modelHash
            self.factsFile = factsFile
            self.facts = facts.map { [$0.prompt, $0.subject, $0.answer ?? "∅"].joined(separator: "\u{1f}") }
            self.samples = config.samples
            self.noiseMultiplier = config.noiseMultiplier
            self.noiseStd = noiseStd
            self.seed = config.seed
            self.window = config.window
            self.kinds = config.kinds
            self.layers = config.layers
        }

        /// The settings a report prints (threads and batching at their defaults).
        public var config: Config {
            Config(samples: samples, noiseMultiplier: noiseMultiplier, seed: seed, window: window, kinds: kinds, layers: layers)
        }

        /// The content hash of everything compared, shortened.
        public var id: String {
            var hash = ContentHash()
            hash.combine(model)
            hash.combine(modelHash)
            for f in facts { hash.combine(f) }
            hash.combine("\(samples) \(noiseMultiplier) \(noiseStd) \(seed) \(window) \(kinds.map(\.rawValue)) \(layers ?? [])")
            return String(hash.hex.prefix(12))
        }

        /// Equal in everything but the facts file's path.
        public func sameJob(as other: FactsJob) -> Bool {
            var a = self, b = other
            (a.factsFile, b.factsFile) = ("", "")
            return a == b
        }
    }

    /// What one shard of a many-fact trace has done so far, saved after every fact as
    /// `shard.json` in its report folder: a rerun of the same shard resumes from it, and
    /// `loupe report merge` joins the shards' files into the report one process would write.
    /// (Its own format, older than ``Store/ShardFile``: every fact with its result or skip
    /// reason once done; the checks are ``Store/ShardProgress``'s.)
    public struct FactsShard: ShardProgress {
        /// Always `"trace-facts"`: what kind of partial result the file holds.
        public var analysis = FactsJob.analysisName
        public var job: FactsJob
        public var shard: Shard
        /// Every fact of the job; those this shard owns carry their result or skip reason once done.
        public var facts: [Fact]

        public init(job: FactsJob, shard: Shard, facts: [Fact]) {
            self.job = job
            self.shard = shard
            self.facts = facts
        }

        public var itemCount: Int { facts.count }
        public var jobItemCount: Int { job.facts.count }
        public func isDone(_ item: Int) -> Bool { facts[item].result != nil || facts[item].skipped != nil }

        /// The facts of one job put back together from all its shards, in file order.
        /// - Throws: ``Store/StoreError/badShard(_:)`` naming the folders when shards belong to
        ///   different jobs, when a shard is missing, given twice or unfinished.
        public static func merge(_ parts: [(folder: String, shard: FactsShard)]) throws -> (job: FactsJob, facts: [Fact]) {
            let ordered = try mergeChecked(parts)
            var facts = ordered[0].shard.facts
            for p in ordered { for i in p.shard.shard.items(of: facts.count) { facts[i] = p.shard.facts[i] } }
            return (ordered[0].shard.job, facts)
        }
    }
}
