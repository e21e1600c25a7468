import Analyses
import Foundation
import LoupeTestSupport
import Testing

/// `loupe snmf fit` and `loupe sae train` under `mpirun -np 2` on activations of the default
/// model (windows of the committed corpus sample), against one process.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel && MPIRun.path != nil && LoupeBinary.path != nil,
                             "needs the default model, mpirun and the built loupe executable (scripts/setup.sh)"))
struct SNMFMPIRealModelTests {
    /// 20 windows of 32 tokens (620 rows once position 0 is left out) of blocks.15.mlp.hook_post
    /// (1536 neurons), rank 8 at the default 1% sparsity, 25 iterations from the random start
    /// (fewer tokens than neurons: the svd start runs in one process only): Z, Y, every loss
    /// and the report (top tokens in order, with the model's token text and context, the
    /// vocabulary effects' page) as one process's within 1e-5 relative.
    @Test func layer15MLPFitUnderTwoRanksEqualsOneProcess() throws {
        let dir = try captureFolder()
        let corpus = repositoryRoot.appendingPathComponent("notebooks-text/data/corpus-sample.jsonl").path
        let store = dir.appendingPathComponent("acts.db").path, hook = "blocks.15.mlp.hook_post"
        _ = try runLoupe(["capture", "--corpus", corpus, "--context", "32", "--max-tokens", "640", "--batch-size", "4", "--hooks", hook, "--store", store])
        try SNMFMPITests().expectSameFit(["--store", store, "--hook", hook, "--model", "default", "--rank", "8", "--init", "random",
                                          "--seed", "1", "--iterations", "25", "--tolerance", "0", "--patience", "100",
                                          "--chunk-rows", "128"], ranks: [2], dir: dir)
        let tokens = try SNMFReportComparison.table(dir.appendingPathComponent("np2").path, "tokens.csv")
        #expect(tokens.count == 1 + 8 * 10 && tokens.dropFirst().allSatisfy { !$0[6].isEmpty }, "token text from --model")
        let summary = try String(contentsOfFile: dir.appendingPathComponent("np2/summary.txt").path, encoding: .utf8)
        #expect(summary.contains("store rows left out:  20 at position 0") && summary.contains(" 620 x 1536\n"), "\(summary)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("np2/vocabulary.csv").path))
    }

    /// A BatchTopK SAE (1152 latents, k 16: the selection agreed over the ranks) on layer 8's
    /// residual stream (620 rows of width 576), 12 steps of 128 rows crossing into a second
    /// pass: every step's loss and the saved weights and threshold as one process's within
    /// 1e-5 relative.
    @Test func layer8ResidualBatchTopKSAEUnderTwoRanksEqualsOneProcess() throws {
        let dir = try captureFolder().path
        let corpus = repositoryRoot.appendingPathComponent("notebooks-text/data/corpus-sample.jsonl").path
        let store = dir + "/acts.db", hook = "blocks.8.hook_resid_post"
        _ = try runLoupe(["capture", "--corpus", corpus, "--context", "32", "--max-tokens", "640", "--batch-size", "4", "--hooks", hook, "--store", store])
        try SAEMPITests().expectSameTraining(["sae", "train", "--store", store, "--hook", hook, "--architecture", "batchtopk", "--latents", "1152",
                                              "--k", "16", "--batch-size", "128", "--tokens", String(128 * 12), "--lr", "0.001", "--seed", "2",
                                              "--progress-every", "1", "--checkpoint-every", "0", "--dead-window", "256"],
                                             ranks: [2], dir: dir, what: "layer 8 batchtopk")
    }
}
