import Store
import Testing

/// The shard rule and where a shard comes from: the flag's text and job runners' variables.
@Suite struct ShardTests {
    @Test func roundRobinIsBalancedAndCoversEveryItemOnce() throws {
        for n in 1...4 {
            let shards = try (0..<n).map { try Shard(index: $0, count: n) }
            let parts = shards.map { $0.items(of: 10) }
            #expect(parts.flatMap { $0 }.sorted() == Array(0..<10))
            #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)
            for (s, part) in zip(shards, parts) { #expect(part.allSatisfy(s.owns)) }
        }
        #expect(try Shard(parsing: "1/3").items(of: 8) == [1, 4, 7])
        #expect(Shard.whole.items(of: 3) == [0, 1, 2] && Shard.whole.items(of: 0).isEmpty)
    }

    @Test func badShardsAreRefusedWithTheRule() {
        for (text, phrase) in [("3/3", "outside 0..<3"), ("-1/2", "outside"), ("0/0", "1 to 1000000"), ("1", "is not I/N"),
                               ("a/2", "is not I/N"), ("1/2/3", "is not I/N")] {
            #expect(throws: StoreError.self) { try Shard(parsing: text) }
            do { _ = try Shard(parsing: text) } catch { #expect("\(error)".contains(phrase), "\(text): \(error)") }
        }
    }

    @Test func jobRunnersVariablesAreRead() throws {
        #expect(try Shard.fromEnvironment([:]) == nil)
        let loupe = try #require(try Shard.fromEnvironment(["LOUPE_SHARD": "2/5", "SLURM_ARRAY_TASK_ID": "0"]))
        #expect(loupe.shard == (try Shard(index: 2, count: 5)) && loupe.source == "LOUPE_SHARD")
        let slurm = try #require(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3",
                                                            "SLURM_ARRAY_TASK_MIN": "2"]))
        #expect(slurm.shard == (try Shard(index: 2, count: 3)))
        let k8s = try #require(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1", "LOUPE_SHARD_COUNT": "2"]))
        #expect(k8s.shard == (try Shard(index: 1, count: 2)) && k8s.source == "JOB_COMPLETION_INDEX")
        for (env, phrase) in [(["SLURM_ARRAY_TASK_ID": "1"], "SLURM_ARRAY_TASK_COUNT is not"),
                              (["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3"], "contiguous --array"),
                              (["JOB_COMPLETION_INDEX": "0"], "LOUPE_SHARD_COUNT is not"),
                              (["JOB_COMPLETION_INDEX": "x", "LOUPE_SHARD_COUNT": "2"], "'x' is not an integer"),
                              (["LOUPE_SHARD": "5/2"], "LOUPE_SHARD")] {
            do { _ = try Shard.fromEnvironment(env); Issue.record("\(env) accepted") } catch {
                #expect("\(error)".contains(phrase), "\(env): \(error)")
            }
        }
    }
}
