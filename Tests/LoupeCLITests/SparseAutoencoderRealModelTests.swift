import Analyses
import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SparseAutoencoderRealModelTests {
    /// Capture layer 15's residual stream of 150 sentiment prompts, train a TopK SAE briefly
    /// from the store, and check what it learned and what it left out.
    @Test func topKOnStoredLayer15ResidualsExplainsMostVariance() throws {
        let dir = try captureFolder()
        let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("probes/sentiment/sentiment.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(150)
        let prompts = dir.appendingPathComponent("p.jsonl").path, store = dir.appendingPathComponent("s.db").path
        try lines.joined(separator: "\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        let hook = "blocks.15.hook_resid_post"
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", hook, "--store", store])
        let sae = dir.appendingPathComponent("sae").path
        let out = try json(runLoupe(["sae", "train", "--store", store, "--hook", hook, "--architecture", "topk", "--latents", "1152",
                                     "--k", "32", "--batch-size", "256", "--tokens", "8192", "--lr", "1e-3", "--progress-every", "8", "--format", "json",
                                     "--out", sae])) as! [String: Any]
        let skipped = out["skipped"] as! [String: Int]
        #expect(skipped["position 0"] == 150)  // one sink row per prompt, counted over one pass
        #expect(skipped["outlier"] == 0)       // the other rows stay within 10x the median norm
        let ev = out["explainedVariance"] as! Double
        // Explained variance of the last 8 steps' batches (training rows: 915 rows seen ~8 times,
        // so this measures fitting, not generalization). Measured 0.847 (0.65 averaged over all
        // 32 steps; 0.907 after 48 steps); the floor 0.75 leaves room for OpenBLAS's kernel and
        // thread count changing sgemm's last bits, which changes the trajectory.
        #expect(ev >= 0.75, "explained variance \(ev)")
        #expect((out["l0"] as! Double) == 32)
        let (loaded, meta) = try SAEFolder.load(sae)
        #expect(meta.hookName == hook && meta.modelName.lowercased().contains("smollm2"))
        #expect(loaded.width == 576 && loaded.latents == 1152)

        // A latent as a steering direction: its decoder row at the SAE's hook.
        let direction = dir.appendingPathComponent("f7.json").path
        _ = try runLoupe(["steer", "derive", "--sae", sae, "--feature", "7", "--out", direction])
        let d = try SteeringDirection.load(from: direction)
        #expect(d.hook == hook && d.provenance.source == "sae-feature")
        #expect(d.vector == Array(loaded.parameters.wDec[(7 * 576)..<(8 * 576)]))
        #expect(abs(d.norm - 1) < 1e-4, "TopK decoder rows are unit norm: \(d.norm)")
        #expect(loupeError(["steer", "derive", "--sae", sae, "--feature", "1152", "--out", direction]).contains("has 1152 latents"))
        #expect(loupeError(["steer", "derive", "--sae", sae, "--feature", "3", "--layer", "4", "--out", direction])
                    .contains("trained on blocks.15.hook_resid_post"))

        try evaluateInTheForwardPass(sae: sae, dir: dir)
    }

    /// `sae eval` of the SAE just trained, on 40 held-out sentiment prompts (lines 151-190),
    /// and its refusals.
    func evaluateInTheForwardPass(sae: String, dir: URL) throws {
        let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("probes/sentiment/sentiment.jsonl"), encoding: .utf8)
            .split(separator: "\n").dropFirst(150).prefix(40)
        let heldOut = dir.appendingPathComponent("held-out.jsonl").path, outDir = dir.appendingPathComponent("eval").path
        try lines.joined(separator: "\n").write(toFile: heldOut, atomically: true, encoding: .utf8)
        let out = try json(runLoupe(["sae", "eval", "--sae", sae, "--prompts", heldOut, "--out-dir", outDir, "--format", "json"])) as! [String: Any]
        for key in ["ce_loss_score", "ce_loss_score_mean_ablation", "ce_loss_without_sae", "ce_loss_with_sae", "ce_loss_with_ablation",
                    "ce_loss_with_mean_ablation", "kl_div_score", "kl_div_score_mean_ablation", "kl_div_with_sae", "kl_div_with_ablation",
                    "explained_variance", "mse", "cossim", "l2_ratio", "relative_reconstruction_bias", "l0", "l1", "dead_latents",
                    "dense_latents", "tokens", "hook"] {
            #expect(out[key] != nil, "missing \(key)")
        }
        #expect(out["hook"] as? String == "blocks.15.hook_resid_post" && out["includes_position_0"] as? Bool == false)
        #expect(out["sequences"] as? Int == 40 && out["tokens"] as? Int == (out["kl_positions"] as? Int))
        #expect((out["ce_predictions"] as! Int) == (out["tokens"] as! Int) - 40)
        // Trained for 32 steps on 915 rows of the same template ("Our hotel last night was
        // superb."), the SAE gives back most of what zeroing the residual stream costs (18.6
        // nats against 4.7 clean). ce_loss_score is not bounded by 1: here the reconstruction
        // predicts the template slightly better than the model (measured 1.015: CE 4.53 with
        // the SAE, 4.73 clean); KL from the clean run is >= 0, so kl_div_score <= 1 (0.987).
        let ce = out["ce_loss_score"] as! Double, kl = out["kl_div_score"] as! Double
        #expect(ce > 0.8 && ce < 1.1 && kl > 0.8 && kl <= 1, "ce_loss_score \(ce), kl_div_score \(kl)")
        #expect((out["ce_loss_with_ablation"] as! Double) > (out["ce_loss_without_sae"] as! Double))
        let l0 = out["l0"] as! Double
        #expect(l0 > 16 && l0 <= 32, "TopK keeps at most k = 32 latents: \(l0)")
        let csv = try String(contentsOfFile: outDir + "/feature_density.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1153 && csv[0] == "latent,fired_rows,density,dead,dense")
        #expect(FileManager.default.fileExists(atPath: outDir + "/sae-eval.json"))

        let text = try runLoupe(["sae", "eval", "--sae", sae, "--prompts", heldOut, "--max-tokens", "30"])
        #expect(text.contains("position 0 (the attention sink) left untouched") && text.contains("  ce_loss_score "), "\(text)")
        // Bad input: another hook's width, a hook the model lacks, no text, nothing to score.
        #expect(loupeError(["sae", "eval", "--sae", sae, "--prompts", heldOut, "--hook", "blocks.15.mlp.hook_post"])
                    .contains("blocks.15.mlp.hook_post has rows of width 1536"))
        #expect(loupeError(["sae", "eval", "--sae", sae, "--prompts", heldOut, "--hook", "blocks.40.hook_resid_post"]).contains("blocks.40.hook_resid_post"))
        let empty = dir.appendingPathComponent("empty.txt").path, short = dir.appendingPathComponent("short.txt").path
        try "\n\n".write(toFile: empty, atomically: true, encoding: .utf8)
        try "the\nhello\n".write(toFile: short, atomically: true, encoding: .utf8)
        #expect(loupeError(["sae", "eval", "--sae", sae, "--prompts", empty]).contains("no prompts"))
        #expect(loupeError(["sae", "eval", "--sae", sae, "--prompts", short]).contains("no next-token prediction"))
        #expect(loupeError(["sae", "eval", "--sae", sae]).contains("--corpus"))
        // An SAE folder whose metadata names no hook needs --hook.
        let noHook = dir.appendingPathComponent("sae-no-hook").path
        try FileManager.default.copyItem(atPath: sae, toPath: noHook)
        var cfg = try json(String(contentsOfFile: noHook + "/cfg.json", encoding: .utf8)) as! [String: Any]
        var meta = cfg["metadata"] as! [String: Any]
        meta["hook_name"] = nil
        cfg["metadata"] = meta
        cfg["hook_name"] = nil  // written at the top level too, for sae-lens
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: noHook + "/cfg.json"))
        #expect(loupeError(["sae", "eval", "--sae", noHook, "--prompts", heldOut]).contains("names no hook (metadata.hook_name); give --hook"))
    }

    /// BatchTopK on the real model: trained on layer 15's stored rows, saved as SAELens saves it
    /// (`jumprelu` with the learned global threshold), then used at inference on 40 held-out
    /// sentences. The threshold must be a real estimate of the batch cut: L0 near k, and the
    /// reconstruction good in the forward pass.
    @Test func batchTopKInferenceKeepsAboutKLatentsOnHeldOutText() throws {
        let dir = try captureFolder()
        let (prompts, heldOut) = try sentimentSplit(in: dir)
        let store = dir.appendingPathComponent("s.db").path, hook = "blocks.15.hook_resid_post"
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", hook, "--store", store])
        let sae = dir.appendingPathComponent("btk").path
        let trained = try json(runLoupe(["sae", "train", "--store", store, "--hook", hook, "--architecture", "batchtopk", "--latents", "1152",
                                         "--k", "32", "--batch-size", "256", "--tokens", "8192", "--lr", "1e-3", "--format", "json",
                                         "--out", sae])) as! [String: Any]
        #expect((trained["l0"] as! Double) == 32, "BatchTopK keeps k per row on average over a training batch")
        let cfg = try json(String(contentsOfFile: sae + "/cfg.json", encoding: .utf8)) as! [String: Any]
        #expect(cfg["architecture"] as? String == "jumprelu" && (cfg["metadata"] as? [String: Any])?["trained_architecture"] as? String == "batchtopk")
        let eval = try json(runLoupe(["sae", "eval", "--sae", sae, "--prompts", heldOut, "--format", "json"])) as! [String: Any]
        let l0 = eval["l0"] as! Double, ev = eval["explained_variance"] as! Double, ce = eval["ce_loss_score"] as! Double
        // Measured 25 latents, explained variance 0.84 and ce_loss_score 1.01 on rows like these
        // (with the threshold average started at 0, as SAELens starts it: L0 312, variance 0.41).
        #expect(l0 >= 12 && l0 <= 64, "inference L0 \(l0) for k 32")
        #expect(ev >= 0.6 && ce >= 0.85, "explained variance \(ev), ce_loss_score \(ce)")
    }
}

/// The sentiment probe set split for the real-model SAE tests: its first 150 prompts to train
/// on (`p.jsonl`) and its last 40 held out (`h.jsonl`), written into `dir`.
func sentimentSplit(in dir: URL) throws -> (train: String, heldOut: String) {
    let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("probes/sentiment/sentiment.jsonl"), encoding: .utf8)
        .split(separator: "\n")
    let train = dir.appendingPathComponent("p.jsonl").path, heldOut = dir.appendingPathComponent("h.jsonl").path
    try lines.prefix(150).joined(separator: "\n").write(toFile: train, atomically: true, encoding: .utf8)
    try lines.suffix(40).joined(separator: "\n").write(toFile: heldOut, atomically: true, encoding: .utf8)
    return (train, heldOut)
}
