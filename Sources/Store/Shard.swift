import Foundation

/// One part of a job split over `count` independent processes (a job array's task): shard
/// `index` (0-based, as Slurm array ids and Kubernetes completion indexes usually count) owns
/// the items whose index `i` satisfies `i % count == index`.
///
/// Round-robin keeps the shards balanced (sizes differ by at most one) and makes the rule
/// easy to state and to check: it depends on nothing but the item's position in its input.
public struct Shard: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// This shard, `0..<count`.
    public let index: Int
    /// How many shards the job has.
    public let count: Int

    /// The whole job as one shard.
    public static let whole = Shard(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// - Throws: ``StoreError/badShard(_:)`` unless `0 <= index < count` and `count` is at most 1,000,000.
    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= 1_000_000 else {
            throw StoreError.badShard("a job has 1 to 1000000 shards, not \(count)")
        }
        guard (0..<count).contains(index) else {
            throw StoreError.badShard("shard index \(index) is outside 0..<\(count) (shards count from 0)")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses `I/N` (e.g. `0/3`).
    /// - Throws: ``StoreError/badShard(_:)`` naming the text.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw StoreError.badShard("shard '\(text)' is not I/N (e.g. 0/3: the first of three shards)")
        }
        try self.init(index: i, count: n)
    }

    /// Whether this shard owns item `item` of the job's input.
    public func owns(_ item: Int) -> Bool { item % count == index }

    /// The items of `0..<total` this shard owns, in order.
    public func items(of total: Int) -> [Int] {
        Array(stride(from: index, to: max(total, 0), by: count))
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// The shard a job runner assigns through the environment, with the variable it came from:
    /// `LOUPE_SHARD` (`I/N`); else Slurm's `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`
    /// (index counted from `SLURM_ARRAY_TASK_MIN`, default 0); else Kubernetes'
    /// `JOB_COMPLETION_INDEX` with the count in `LOUPE_SHARD_COUNT` (an indexed Job does not
    /// export its completion count). Nil when none is set.
    /// - Throws: ``StoreError/badShard(_:)`` for malformed or inconsistent values, naming the variable.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> (shard: Shard, source: String)? {
        func integer(_ name: String) throws -> Int? {
            guard let text = env[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw StoreError.badShard("\(name)='\(text)' is not an integer")
            }
            return value
        }
        if let text = env["LOUPE_SHARD"] {
            do { return (try Shard(parsing: text), "LOUPE_SHARD") } catch {
                throw StoreError.badShard("LOUPE_SHARD: \(error)")
            }
        }
        if let id = try integer("SLURM_ARRAY_TASK_ID") {
            guard let count = try integer("SLURM_ARRAY_TASK_COUNT") else {
                throw StoreError.badShard("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            }
            let first = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
            do { return (try Shard(index: id - first, count: count), "SLURM_ARRAY_TASK_ID") } catch {
                throw StoreError.badShard("SLURM_ARRAY_TASK_ID \(id) - SLURM_ARRAY_TASK_MIN \(first) with SLURM_ARRAY_TASK_COUNT \(count): \(error) (use a contiguous --array range)")
            }
        }
        if let index = try integer("JOB_COMPLETION_INDEX") {
            guard let count = try integer("LOUPE_SHARD_COUNT") else {
                throw StoreError.badShard("JOB_COMPLETION_INDEX is set but LOUPE_SHARD_COUNT is not: set it to the Job's completions")
            }
            do { return (try Shard(index: index, count: count), "JOB_COMPLETION_INDEX") } catch {
                throw StoreError.badShard("JOB_COMPLETION_INDEX with LOUPE_SHARD_COUNT: \(error)")
            }
        }
        return nil
    }
}
