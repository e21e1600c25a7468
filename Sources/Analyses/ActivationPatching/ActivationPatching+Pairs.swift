import Foundation
import Store
import Tokenizers

extension ActivationPatching {
    /// One prompt pair of a many-pair patching run, as read and as patched.
    public struct Pair: Codable, Sendable {
        public var clean: String
        public var corrupt: String
        /// The clean and the corrupted prompt's answers (single tokens).
        public var answer: String
        public var wrong: String
        /// The patching, or nil when the pair was skipped.
        public var result: Result?
        /// Why the pair was skipped.
        public var skipped: String?

        public init(clean: String, corrupt: String, answer: String, wrong: String) {
            self.clean = clean
            self.corrupt = corrupt
            self.answer = answer
            self.wrong = wrong
        }
    }

    /// Reads a pairs file: one JSON object per line with string fields `clean`, `corrupt` (or
    /// `corrupted`), `answer` and `wrong`; blank lines are skipped.
    /// - Throws: ``AnalysisError/invalid(_:)`` naming the file and line.
    public static func readPairs(_ path: String) throws -> [Pair] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AnalysisError.invalid("cannot read pairs file \(path)")
        }
        var pairs: [Pair] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw AnalysisError.invalid("\(path):\(i + 1): not a JSON object")
            }
            guard let clean = o["clean"] as? String, let corrupt = (o["corrupt"] ?? o["corrupted"]) as? String,
                  let answer = o["answer"] as? String, let wrong = o["wrong"] as? String else {
                throw AnalysisError.invalid("\(path):\(i + 1): needs string fields \"clean\", \"corrupt\", \"answer\" and \"wrong\"")
            }
            pairs.append(Pair(clean: clean, corrupt: corrupt, answer: answer, wrong: wrong))
        }
        if pairs.isEmpty { throw AnalysisError.invalid("\(path): no pairs in the file") }
        return pairs
    }

    /// Patches the pairs `shard` owns that are not done yet (neither patched nor skipped), in
    /// order, calling `done` after each. A pair is skipped, with the reason, when its prompts
    /// differ in token count or an answer is not a single token. A pair's numbers do not
    /// depend on the other pairs run.
    public func run(_ pairs: inout [Pair], shard: Shard, tokenizer: Tokenizer, lanes: Int = 1, progress: (String) -> Void = { _ in },
                    done: ([Pair]) throws -> Void = { _ in }) throws {
        for i in shard.items(of: pairs.count) where pairs[i].result == nil && pairs[i].skipped == nil {
            pairs[i] = try run(pairs[i], tokenizer: tokenizer, lanes: lanes)
            progress(pairs[i].skipped.map { "pair \(i + 1)/\(pairs.count) skipped: \($0)" } ?? "pair \(i + 1)/\(pairs.count): \(pairs[i].clean)")
            try done(pairs)
        }
    }

    /// One pair patched, or marked skipped with the reason.
    func run(_ pair: Pair, tokenizer: Tokenizer, lanes: Int) throws -> Pair {
        var pair = pair
        let clean = try tokenizer.encode(pair.clean), corrupt = try tokenizer.encode(pair.corrupt)
        guard clean.count == corrupt.count else {
            pair.skipped = "the prompts have \(clean.count) and \(corrupt.count) tokens: patching needs equal lengths"
            return pair
        }
        let answer = try tokenizer.encode(pair.answer), wrong = try tokenizer.encode(pair.wrong)
        guard answer.count == 1, wrong.count == 1 else {
            pair.skipped = "'\(answer.count == 1 ? pair.wrong : pair.answer)' is not a single token"
            return pair
        }
        pair.result = try run(clean: clean, corrupted: corrupt, answer: answer[0], wrong: wrong[0], lanes: lanes)
        return pair
    }

    /// Per layer, a mean over pairs with a 95% Student t interval.
    public struct Average: Codable, Sendable {
        public var mean: [Double]
        public var lower: [Double]
        public var upper: [Double]
        /// Pairs averaged (those with a normalized scale).
        public var pairs: Int
    }

    /// The groups a site's cells are averaged in: for per-position sites `changed` (the mean
    /// over the positions where the prompts differ) and `last` (the last position); for
    /// per-head `z`, each head (`head 0`, ...).
    public static func groups(_ r: Result, site: Site) -> [(name: String, columns: [Int])] {
        if site.isPerHead {
            return (0..<(r.grids[site]?.first?.count ?? 0)).map { ("head \($0)", [$0]) }
        }
        let changed = r.cleanTokens.indices.filter { r.cleanTokens[$0] != r.corruptedTokens[$0] }
        return [("changed", changed), ("last", [r.cleanTokens.count - 1])]
    }

    /// Per site and group, the normalized logit difference per layer averaged over the pairs
    /// with a normalized scale (a pair whose clean and corrupted runs tie has none).
    public static func averages(_ results: [Result], sites: [Site]) -> [Site: [String: Average]] {
        let scaled = results.filter(\.hasNormalizedScale)
        var out: [Site: [String: Average]] = [:]
        for site in sites {
            var bySite: [String: Average] = [:]
            var perGroup: [String: [[Double]]] = [:]  // group -> [pair][layer]
            for r in scaled {
                guard let grid = r.normalizedGrid(site) else { continue }
                for g in groups(r, site: site) where !g.columns.isEmpty {
                    perGroup[g.name, default: []].append(grid.map { row in g.columns.map { row[$0] }.reduce(0, +) / Double(g.columns.count) })
                }
            }
            for (name, rows) in perGroup {
                guard let layers = rows.first?.count else { continue }
                var a = Average(mean: [], lower: [], upper: [], pairs: rows.count)
                for l in 0..<layers {
                    let values = rows.map { $0[l] }.filter(\.isFinite)
                    let (mean, half) = values.isEmpty ? (Double.nan, 0) : CausalTracing.meanAndHalfWidth(values)
                    a.mean.append(mean)
                    a.lower.append(mean - half)
                    a.upper.append(mean + half)
                }
                bySite[name] = a
            }
            out[site] = bySite
        }
        return out
    }

    /// The group names of `site` in report order.
    public static func groupNames(_ averages: [String: Average], site: Site) -> [String] {
        site.isPerHead ? averages.keys.sorted { Int($0.dropFirst(5)) ?? 0 < Int($1.dropFirst(5)) ?? 0 } : ["changed", "last"].filter { averages[$0] != nil }
    }
}

/// What makes two sharded many-pair patching runs the same job: the model, the pairs in order
/// and the patching settings.
public struct PatchPairsJob: ShardedJob, Equatable {
    public static let analysisName = "patch-pairs"
    public static let itemNoun = "pairs"
    public var model: String
    public var modelHash: String
    /// The pairs file as given (informational, not compared).
    public var pairsFile: String
    public var pairs: [String]
    public var config: ActivationPatching.Config

    public init(model: String, modelHash: String, pairsFile: String, pairs: [ActivationPatching.Pair], config: ActivationPatching.Config) {
        self.model = model
        self.modelHash = modelHash
        self.pairsFile = pairsFile
        self.pairs = pairs.map { [$0.clean, $0.corrupt, $0.answer, $0.wrong].joined(separator: "\u{1f}") }
        self.config = config
    }

    /// Everything compared, hashed and shortened.
    public var id: String {
        var hash = ContentHash()
        hash.combine(model)
        hash.combine(modelHash)
        for p in pairs { hash.combine(p) }
        hash.combine("\(config.direction.rawValue) \(config.sites.map(\.rawValue)) \(config.layers ?? [])")
        return String(hash.hex.prefix(12))
    }

    /// Equal in everything but the pairs file's path.
    public func sameJob(as other: PatchPairsJob) -> Bool {
        var a = self, b = other
        (a.pairsFile, b.pairsFile) = ("", "")
        return a == b
    }
}

/// A sharded many-pair patching run's progress: each pair once patched or skipped.
public typealias PatchPairsShardFile = ShardFile<PatchPairsJob, ActivationPatching.Pair>
