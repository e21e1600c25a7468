import Foundation
import Store

extension CausalTracing {
    /// What makes two many-fact traces the same job: the model, the facts in order, and every
    /// setting that changes a number. Shards of one job merge; anything else is refused.
    /// (Threads and batching are left out: they change sgemm's last bits at most.)
    public struct FactsJob: Codable, Sendable, Equatable {
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

        /// A short hexadecimal name of the job (the content hash of everything compared), to
        /// tell jobs apart in messages.
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
    public struct FactsShard: Codable, Sendable {
        /// Always `"trace-facts"`: what kind of partial result the file holds.
        public var analysis = FactsShard.analysisName
        public var job: FactsJob
        public var shard: Shard
        /// Every fact of the job; those this shard owns carry their result or skip reason once done.
        public var facts: [Fact]

        public static let analysisName = "trace-facts"
        public static let fileName = "shard.json"

        public init(job: FactsJob, shard: Shard, facts: [Fact]) {
            self.job = job
            self.shard = shard
            self.facts = facts
        }

        /// Facts of this shard not yet traced or skipped.
        public var remaining: Int {
            shard.items(of: facts.count).filter { facts[$0].result == nil && facts[$0].skipped == nil }.count
        }

        /// JSON with NaN and infinities as strings (grids of layers left out are NaN).
        public func encoded() throws -> Data {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try e.encode(self)
        }

        /// Reads `file`.
        /// - Throws: ``AnalysisError/invalid(_:)`` naming the file when it cannot be read or is not a shard file.
        public static func read(_ file: URL) throws -> FactsShard {
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw AnalysisError.invalid("\(file.path): cannot read (is it a shard's report folder?)")
            }
            let d = JSONDecoder()
            d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let shard: FactsShard
            do { shard = try d.decode(FactsShard.self, from: data) } catch {
                throw AnalysisError.invalid("\(file.path): not a trace shard file (\(error))")
            }
            guard shard.analysis == analysisName, shard.facts.count == shard.job.facts.count else {
                throw AnalysisError.invalid("\(file.path): not a trace shard file (analysis '\(shard.analysis)', \(shard.facts.count) facts for \(shard.job.facts.count))")
            }
            return shard
        }

        /// The facts of one job put back together from all its shards, in file order.
        /// - Throws: ``AnalysisError/invalid(_:)`` naming the folders when shards belong to
        ///   different jobs, when a shard is missing, given twice or unfinished.
        public static func merge(_ parts: [(folder: String, shard: FactsShard)]) throws -> (job: FactsJob, facts: [Fact]) {
            guard let first = parts.first else { throw AnalysisError.invalid("no shard folders to merge") }
            for p in parts.dropFirst() where !p.shard.job.sameJob(as: first.shard.job) {
                throw AnalysisError.invalid("\(p.folder) holds job \(p.shard.job.id) but \(first.folder) holds job \(first.shard.job.id): only shards of one job merge (same model, facts and settings)")
            }
            for p in parts.dropFirst() where p.shard.shard.count != first.shard.shard.count {
                throw AnalysisError.invalid("\(p.folder) is shard \(p.shard.shard) but \(first.folder) is shard \(first.shard.shard): the shard counts differ")
            }
            let count = first.shard.shard.count
            var byIndex: [Int: String] = [:]
            for p in parts {
                if let other = byIndex[p.shard.shard.index] {
                    throw AnalysisError.invalid("shard \(p.shard.shard) is given twice: \(other) and \(p.folder)")
                }
                byIndex[p.shard.shard.index] = p.folder
            }
            let missing = (0..<count).filter { byIndex[$0] == nil }
            if !missing.isEmpty {
                throw AnalysisError.invalid("missing shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) of job \(first.shard.job.id)")
            }
            var facts = first.shard.facts
            for p in parts {
                if p.shard.remaining > 0 {
                    throw AnalysisError.invalid("shard \(p.shard.shard) in \(p.folder) is unfinished: \(p.shard.remaining) of its facts are left; rerun it to resume")
                }
                for i in p.shard.shard.items(of: facts.count) { facts[i] = p.shard.facts[i] }
            }
            return (first.shard.job, facts)
        }
    }
}
