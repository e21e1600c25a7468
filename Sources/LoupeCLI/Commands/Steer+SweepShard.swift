import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting
import Store

extension Loupe.Steer.Sweep {
    /// One shard's layers, each saved to `shard.json` when swept (a rerun resumes from it).
    func sweepShard(_ shard: Shard, source: String, _ sweep: SteeringSweep, _ m: LoadedModel, prompts heldOut: [String],
                    neutral: [String], concept: [Int], readout: SteeringProbe?) throws {
        if noReport { throw ValidationError("shard \(shard) (from \(source)) saves its layers in its report folder: drop --no-report") }
        var probeHash: String? = nil
        if let probe {
            var hash = ContentHash()
            try hash.combine(fileAt: probe)
            probeHash = hash.hex
        }
        let job = SteeringSweepJob(model: m.config.name, modelHash: try ModelIdentity(of: m).fileHash, pairsFile: pairs, sweep: sweep,
                                   prompts: heldOut, neutral: neutral, conceptTokens: concept,
                                   readout: readout.map { "\($0.readout().name) \(probeHash ?? "")" }, maxKL: maxKL)
        let label = URL(fileURLWithPath: pairs).deletingPathExtension().lastPathComponent
        var folder = try shardFolder(out: out, analysis: "steer-sweep", label: label, shard: shard)
        let file = folder.url.appendingPathComponent(SteeringSweepShardFile.fileName)
        var state = try SteeringSweepShardFile.resumable(at: file, job: job, shard: shard, progress: Console.progress)
            ?? SteeringSweepShardFile(job: job, shard: shard, total: sweep.layers.count)
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: sweep.layers.count).count) of \(sweep.layers.count) layers")
        let save = { (p: SteeringSweepShardFile) throws in _ = try folder.write(p.encoded(), to: SteeringSweepShardFile.fileName) }
        try save(state)
        let todo = state.todo
        if !todo.isEmpty {
            var part = sweep, next = 0
            part.layers = todo.map { sweep.layers[$0] }
            _ = try part.run(prompts: heldOut, neutral: neutral, conceptTokens: concept, readout: readout?.readout(),
                             progress: { Console.progress($0) }, layerDone: { layer in
                                 state.items[todo[next]] = layer
                                 next += 1
                                 try save(state)
                             })
        }
        try printShardDone(state, folder: folder, format: format)
    }

    /// Writes the report of a merged job and prints what `steer sweep` prints.
    static func writeMerged(_ job: SteeringSweepJob, _ result: SteeringSweep.Result, out: String, command: String,
                            format: OutputFormat) throws {
        let folder = try ReportFolder(directory: URL(fileURLWithPath: out))
        try finish(result, model: job.model, prompts: job.prompts.count, maxKL: job.maxKL, folder: folder, command: command, format: format)
    }
}
