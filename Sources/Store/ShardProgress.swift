import Foundation

/// What makes two shards parts of the same job: everything that changes a number (the model's
/// hash, the items in order, the settings). Shards of one job merge; anything else is refused.
public protocol ShardedJob: Codable, Sendable {
    /// The kind of partial result a shard file of this job holds (e.g. `"trace-facts"`).
    static var analysisName: String { get }
    /// What the job's items are called in messages (`"facts"`, `"hooks"`, `"layers"`).
    static var itemNoun: String { get }
    /// A short hexadecimal name of the job, to tell jobs apart in messages.
    var id: String { get }
    /// Whether `other` is the same job (informational fields such as file paths left out).
    func sameJob(as other: Self) -> Bool
}

/// One shard's saved progress on a ``ShardedJob``: which items of the whole job it has done.
/// Saved as `shard.json` in the shard's report folder after every item, so a rerun resumes,
/// and joined with the other shards' files by ``mergeChecked(_:)``.
public protocol ShardProgress: Codable, Sendable {
    associatedtype Job: ShardedJob
    /// Always `Job.analysisName` (checked on reading).
    var analysis: String { get }
    var job: Job { get }
    var shard: Shard { get }
    /// How many items the whole job has (every shard's).
    var itemCount: Int { get }
    /// How many items the job's identity lists (checked against ``itemCount`` on reading).
    var jobItemCount: Int { get }
    /// Whether item `item` (of the whole job) is done.
    func isDone(_ item: Int) -> Bool
}

extension ShardProgress {
    /// The file a shard's progress is saved in, inside its report folder.
    public static var fileName: String { "shard.json" }

    /// Items of this shard not done yet.
    public var remaining: Int { shard.items(of: itemCount).filter { !isDone($0) }.count }

    /// JSON with sorted keys and NaN and infinities as strings.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }

    /// Reads `file`.
    /// - Throws: ``StoreError/badShard(_:)`` naming the file when it cannot be read or is not
    ///   a shard file of this kind.
    public static func read(_ file: URL) throws -> Self {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw StoreError.badShard("\(file.path): cannot read (is it a shard's report folder?)")
        }
        let kind = Job.analysisName
        let found = ShardFileKind.analysis(in: data) ?? "?"
        guard found == kind else {
            throw StoreError.badShard("\(file.path): not a \(kind) shard file (analysis '\(found)')")
        }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let progress: Self
        do { progress = try d.decode(Self.self, from: data) } catch {
            throw StoreError.badShard("\(file.path): not a \(kind) shard file (\(error))")
        }
        guard progress.itemCount == progress.jobItemCount else {
            throw StoreError.badShard("\(file.path): not a \(kind) shard file (\(progress.itemCount) \(Job.itemNoun) for \(progress.jobItemCount))")
        }
        return progress
    }

    /// The progress saved at `file` when it is this shard of this job (a rerun resumes from
    /// it); nil when there is none or it belongs to another shard or job (`progress` says so).
    public static func resumable(at file: URL, job: Job, shard: Shard, progress: (String) -> Void) throws -> Self? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let saved = try read(file)
        guard saved.job.sameJob(as: job), saved.shard == shard else {
            progress("\(file.path) holds shard \(saved.shard) of job \(saved.job.id), not \(shard) of \(job.id): starting over")
            return nil
        }
        progress("resuming shard \(shard) from \(file.path): \(saved.remaining) of its \(Job.itemNoun) left")
        return saved
    }

    /// Checks that `parts` are all the shards of one job, each once and finished, and returns
    /// them ordered by shard index.
    /// - Throws: ``StoreError/badShard(_:)`` naming the folders when shards belong to different
    ///   jobs or shard counts, when a shard is missing, given twice or unfinished.
    public static func mergeChecked(_ parts: [(folder: String, shard: Self)]) throws -> [(folder: String, shard: Self)] {
        guard let first = parts.first else { throw StoreError.badShard("no shard folders to merge") }
        for p in parts.dropFirst() where !p.shard.job.sameJob(as: first.shard.job) {
            throw StoreError.badShard("\(p.folder) holds job \(p.shard.job.id) but \(first.folder) holds job \(first.shard.job.id): only shards of one job merge (same model, \(Job.itemNoun) and settings)")
        }
        for p in parts.dropFirst() where p.shard.shard.count != first.shard.shard.count {
            throw StoreError.badShard("\(p.folder) is shard \(p.shard.shard) but \(first.folder) is shard \(first.shard.shard): the shard counts differ")
        }
        let count = first.shard.shard.count
        var byIndex: [Int: (folder: String, shard: Self)] = [:]
        for p in parts {
            if let other = byIndex[p.shard.shard.index] {
                throw StoreError.badShard("shard \(p.shard.shard) is given twice: \(other.folder) and \(p.folder)")
            }
            byIndex[p.shard.shard.index] = p
        }
        let missing = (0..<count).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            throw StoreError.badShard("missing shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) of job \(first.shard.job.id)")
        }
        for p in parts where p.shard.remaining > 0 {
            throw StoreError.badShard("shard \(p.shard.shard) in \(p.folder) is unfinished: \(p.shard.remaining) of its \(Job.itemNoun) are left; rerun it to resume")
        }
        return (0..<count).map { byIndex[$0]! }
    }
}

/// Which kind of shard file a `shard.json` is (its `analysis` field), to pick its merge.
public enum ShardFileKind {
    /// The `analysis` field of a shard file's JSON, or nil when it has none.
    public static func analysis(in data: Data) -> String? {
        struct Head: Decodable { let analysis: String }
        return try? JSONDecoder().decode(Head.self, from: data).analysis
    }
}

/// A shard's progress as one optional result per item of the job (nil until done, and for
/// the other shards' items): the shard file of the sweeps over hooks, layers and windows.
public struct ShardFile<Job: ShardedJob, Item: Codable & Sendable>: ShardProgress {
    /// `Job.analysisName`.
    public var analysis: String
    public var job: Job
    public var shard: Shard
    /// One entry per item of the whole job, in the job's order.
    public var items: [Item?]
    /// How many items the job has (stored so a reader can check ``items``).
    public var total: Int

    /// A shard with nothing done yet of a job of `total` items.
    public init(job: Job, shard: Shard, total: Int) {
        self.analysis = Job.analysisName
        self.job = job
        self.shard = shard
        self.items = Array(repeating: nil, count: total)
        self.total = total
    }

    public var itemCount: Int { items.count }
    public var jobItemCount: Int { total }
    public func isDone(_ item: Int) -> Bool { items[item] != nil }

    /// The items of this shard not done yet, in order.
    public var todo: [Int] { shard.items(of: total).filter { items[$0] == nil } }

    /// Every item of a job, put back together from all its shards' files.
    /// - Throws: ``StoreError/badShard(_:)`` as ``ShardProgress/mergeChecked(_:)`` does.
    public static func merge(_ parts: [(folder: String, shard: ShardFile)]) throws -> (job: Job, items: [Item]) {
        let ordered = try mergeChecked(parts)
        let first = ordered[0].shard
        var items = first.items
        for p in ordered { for i in p.shard.shard.items(of: items.count) { items[i] = p.shard.items[i] } }
        return (first.job, items.map { $0! })
    }
}

extension Shard {
    /// `-shard-I-of-N`: what a shard adds to its job's report folder name, so every shard of a
    /// job array, given the same command line, writes beside the others.
    public var folderSuffix: String { "-shard-\(index)-of-\(count)" }
}
