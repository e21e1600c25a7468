import ArgumentParser
import Foundation
import Probes
import Reporting
import Store

extension Loupe.ProbeTrain {
    /// The regularization as the table prints it.
    var regularizationText: String {
        probe == .logistic ? (c == "auto" ? "C by CV" : "C \(c)") : probe == .ridge ? (alpha == "auto" ? "alpha by CV" : "alpha \(alpha ?? "1")") : "no regularization"
    }

    /// One shard's hooks, saved to `shard.json` after each hook (a rerun resumes from it).
    func trainShard(_ shard: Shard, source: String, _ training: ProbeTraining, hooks: [String],
                    holders: [String: CaptureSummary]) throws {
        if target != nil { throw ValidationError("--shard splits classification probes over hooks; a ridge regression on --target runs unsharded") }
        let job = try training.job(hooks: hooks, holders: holders, regularization: regularizationText)
        var folder = try shardFolder(out: out, analysis: "probe", label: training.name, shard: shard)
        let file = folder.url.appendingPathComponent(ProbeShardFile.fileName)
        var progress = try ProbeShardFile.resumable(at: file, job: job, shard: shard, progress: Console.progress)
            ?? ProbeShardFile(job: job, shard: shard, total: hooks.count)
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: hooks.count).count) of \(hooks.count) hooks")
        let save = { (p: ProbeShardFile) throws in _ = try folder.write(p.encoded(), to: ProbeShardFile.fileName) }
        try save(progress)
        try training.train(&progress, holders: holders, progress: Console.progress, done: save)
        try printShardDone(progress, folder: folder, format: format)
    }

    /// Why a shard cannot train: it reads the store and captures nothing (shards would race to
    /// capture the same hooks into one file).
    func shardLacks(_ shard: Shard, missing: [String]) -> Error {
        ValidationError("shard \(shard) trains on what \(store) holds, and it lacks \(missing.joined(separator: ", ")): capture them first "
                        + "(`loupe capture`, sharded too if large, or an unsharded `probe train --capture-missing`), then run the shards")
    }

    /// Writes the report of a merged job and prints what `probe train` prints.
    static func writeMerged(_ job: ProbeJob, _ results: [ProbeHookResult], out: String, command: String, format: OutputFormat) throws {
        let report = job.report(results)
        var folder = try ReportFolder(directory: URL(fileURLWithPath: out))
        let notes = report.outlierNotes(rule: job.experiment.outlierRule)
        try report.write(to: &folder, command: command, notes: notes, probeFile: report.probeFile(for:))
        if format == .json { return try Console.json(output(report, reportPath: out)) }
        printTable(report, regularization: job.regularization, notes: notes, reportPath: out)
    }
}
