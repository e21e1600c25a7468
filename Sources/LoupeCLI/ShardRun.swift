import ArgumentParser
import Foundation
import Reporting
import Store

/// A shard's report folder (`<out>-shard-I-of-N`, or `reports/<analysis>-<label>-shard-I-of-N`).
func shardFolder(out: String?, analysis: String, label: String, shard: Shard) throws -> ReportFolder {
    try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0 + shard.folderSuffix)) }
        ?? ReportFolder(analysis: analysis, label: label + shard.folderSuffix)
}

/// A finished shard's `--format json` output.
struct ShardDoneOutput: Encodable { let shard: Shard; let job: String; let analysis: String; let file: String; let done: Int; let of: Int }

/// What a shard prints when it is done: which shard of which job, how much it did, and where
/// it saved it (JSON with `--format json`).
func printShardDone<P: ShardProgress>(_ progress: P, folder: ReportFolder, format: OutputFormat) throws {
    let mine = progress.shard.items(of: progress.itemCount)
    let done = mine.filter(progress.isDone).count
    let file = folder.url.appendingPathComponent(P.fileName).path
    if format == .json {
        return try Console.json(ShardDoneOutput(shard: progress.shard, job: progress.job.id, analysis: P.Job.analysisName, file: file,
                                       done: done, of: mine.count))
    }
    Console.out("shard \(progress.shard) of job \(progress.job.id): \(done) of \(mine.count) \(P.Job.itemNoun) done, saved in \(file); "
                + "when every shard is done: loupe report merge OUT \(folder.url.path) ...")
}

/// Reads the `shard.json` of each of `folders`.
func readShards<P: ShardProgress>(_ type: P.Type, _ folders: [String]) throws -> [(folder: String, shard: P)] {
    try folders.map { (folder: $0, shard: try P.read(URL(fileURLWithPath: $0).appendingPathComponent(P.fileName))) }
}
