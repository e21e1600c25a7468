import Analyses
import ArgumentParser
import Foundation
import Models
import Reporting
import Store

extension Loupe.SAE.Eval {
    /// One shard's batches, each batch's sums saved to `shard.json` when evaluated (a rerun
    /// resumes from it). Every shard runs the mean pass over all the text (the mean-ablation
    /// row is the whole text's mean), then its own batches.
    func evalShard(_ shard: Shard, source: String, _ sae: any SparseAutoencoder, _ m: LoadedModel, _ sequences: [[Int]],
                   _ config: SAEEvaluationConfig) throws {
        let job = SAEEvaluationJob(model: m.config.name, modelHash: try ModelIdentity(of: m).fileHash, sae: self.sae,
                                   saeHash: try SAEEvaluationJob.folderHash(self.sae), parameters: sae, sequences: sequences, config: config)
        let total = SAEEvaluation.batchCount(sequences, config: config)
        let label = URL(fileURLWithPath: self.sae).lastPathComponent
        var folder = try shardFolder(out: outDir, analysis: "sae-eval", label: label, shard: shard)
        let file = folder.url.appendingPathComponent(SAEEvaluationShardFile.fileName)
        var state = try SAEEvaluationShardFile.resumable(at: file, job: job, shard: shard, progress: Console.progress)
            ?? SAEEvaluationShardFile(job: job, shard: shard, total: total)
        Console.progress("shard \(shard) (from \(source)) of job \(job.id): \(shard.items(of: total).count) of \(total) batches")
        let save = { (p: SAEEvaluationShardFile) throws in _ = try folder.write(p.encoded(), to: SAEEvaluationShardFile.fileName) }
        try save(state)
        if !state.todo.isEmpty {
            try SAEEvaluation.evaluate(sae, model: m.transformer, sequences: sequences, config: config, only: Set(state.todo),
                                       progress: { Console.progress("\($0.stage) \($0.tokens)/\($0.totalTokens) tokens") }) { b, part in
                state.items[b] = part
                try save(state)
            }
        }
        try printShardDone(state, folder: folder, format: format)
    }

    /// Writes the merged evaluation's files into `out` and prints what `sae eval` prints.
    static func writeMerged(_ job: SAEEvaluationJob, _ batches: [SAEEvaluationTotals], out: String, format: OutputFormat) throws {
        let result = job.result(batches)
        for file in try result.write(to: out) { Console.progress("wrote \(file)") }
        if format == .json { return try Console.json(result) }
        for line in lines(result, sae: job.sae) { Console.out(line) }
    }
}
