import Analyses
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// `SAEEvaluation` on the default model with hand-built SAEs whose scores follow from the
/// definitions: an exact SAE (1), a zero reconstruction (0 against zero ablation), the mean
/// (0 against mean ablation). The clean and zero-ablated cross-entropies are recomputed here
/// from full passes' logits (no resumed passes, log-softmax in Double).
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SAEEvaluationRealModelTests {
    static let texts = [
        "The Eiffel Tower is located in the city of Paris, which is the capital of France.",
        "She opened the window and the cold morning air filled the small kitchen.",
        "In 1969, astronauts landed on the Moon for the first time in history.",
        "Water boils at one hundred degrees Celsius at sea level.",
        "The committee will meet again next Tuesday to discuss the budget.",
    ]
    static let hook = HookPoint.residPost(6)

    static func sequences(_ m: LoadedModel) throws -> [[Int]] { try texts.map { try m.tokenizer.encode($0) } }

    /// Standard ReLU SAE with d_sae = 2 d_in, W_enc = [I, -I], W_dec = [I; -I], biases 0:
    /// ReLU(x) - ReLU(-x) = x, every product a copy or a zero, so x̂ = x.
    static func exactSAE(width d: Int) throws -> StandardSAE {
        var p = try SAEParameters(width: d, latents: 2 * d)
        for j in 0..<d {
            p.wEnc[j * 2 * d + j] = 1
            p.wEnc[j * 2 * d + d + j] = -1
            p.wDec[j * d + j] = 1
            p.wDec[(d + j) * d + j] = -1
        }
        return StandardSAE(parameters: p)
    }

    /// Mean next-token cross-entropy over positions 1..<len-1 of full passes with `hooks`.
    static func crossEntropy(_ m: LoadedModel, _ seqs: [[Int]], hooks: HookSet = HookSet()) throws -> Double {
        let logits = try m.transformer.forward(seqs, hooks: hooks, logits: .all).logits
        var total = 0.0, n = 0
        for (s, tokens) in seqs.enumerated() {
            let v = logits[s].shape[1]
            for p in 1..<(tokens.count - 1) {
                let row = logits[s].scalars[(p * v)..<((p + 1) * v)].map(Double.init)
                let mx = row.max()!
                let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
                total += lse - row[tokens[p + 1]]
                n += 1
            }
        }
        return total / Double(n)
    }

    /// The hook's rows at positions 1... of every sequence, captured by a plain pass.
    static func rows(_ m: LoadedModel, _ seqs: [[Int]], at point: HookPoint) throws -> [[Float]] {
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture([point], into: cache)
        _ = try m.transformer.forward(seqs, hooks: hooks, logits: .none)
        return seqs.indices.flatMap { s -> [[Float]] in
            let t = cache.tensor(point, sequence: s)!
            let w = t.count / t.shape[0]
            return (1..<t.shape[0]).map { Array(t.scalars[($0 * w)..<(($0 + 1) * w)]) }
        }
    }

    @Test func exactSAEScoresOneAndCleanLossMatchesTheLogits() throws {
        let m = try RealModel.shared()
        let seqs = try Self.sequences(m)
        let sae = try Self.exactSAE(width: 576)
        let r = try SAEEvaluation.run(sae, model: m.transformer, sequences: seqs, config: SAEEvaluationConfig(hook: Self.hook))
        let tokens = seqs.reduce(0) { $0 + $1.count }
        #expect(r.tokens == tokens - seqs.count && r.cePredictions == tokens - 2 * seqs.count && r.klPositions == r.tokens)
        // The clean loss, recomputed from a full pass's logits in Double: Float logits and
        // their Float exponentials agree to ~1e-6 relative, far inside 1e-4 nats.
        let clean = try Self.crossEntropy(m, seqs)
        #expect(abs(r.ceLossWithoutSAE - clean) < 1e-4, "\(r.ceLossWithoutSAE) vs \(clean)")
        // The replaced passes resume at block 6; a full pass with the rows zeroed must agree.
        var zero = HookSet()
        zero.zeroAblate(Self.hook, positions: .from(1))
        let zeroCE = try Self.crossEntropy(m, seqs, hooks: zero)
        #expect(abs(r.ceLossWithAblation - zeroCE) < 1e-3 * zeroCE, "\(r.ceLossWithAblation) vs \(zeroCE)")
        #expect(r.ceLossWithAblation > clean + 1, "zero-ablating block 6's residual stream must hurt: \(r.ceLossWithAblation) vs \(clean)")
        #expect(r.ceLossWithMeanAblation > clean && r.klDivWithAblation > 0.5 && r.klDivWithMeanAblation > 0)
        // x̂ = x exactly (up to the sign of zero), so the SAE pass repeats the clean one; the
        // tolerance 1e-4 allows a last-bit difference in x̂ moving logits by ~1e-6, against
        // ablation gaps of nats.
        #expect(abs(r.ceLossScore! - 1) < 1e-4 && abs(r.klDivScore! - 1) < 1e-4, "\(r.ceLossScore!) \(r.klDivScore!)")
        #expect(abs(r.ceLossScoreMeanAblation! - 1) < 1e-4 && abs(r.klDivWithSAE) < 1e-5)
        #expect(abs(r.explainedVariance! - 1) < 1e-6 && r.mse <= 1e-9 * r.l2NormIn * r.l2NormIn)
        #expect(abs(r.cossim - 1) < 1e-6 && abs(r.l2Ratio - 1) < 1e-6 && abs(r.relativeReconstructionBias! - 1) < 1e-6)
        // One latent per nonzero coordinate (ReLU(x_j) or ReLU(-x_j)); L1 = mean Σ|x_j|.
        let x = try Self.rows(m, seqs, at: Self.hook)
        let l0 = Double(x.reduce(0) { $0 + $1.filter { $0 != 0 }.count }) / Double(x.count)
        let l1 = x.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double(abs($1)) } } / Double(x.count)
        #expect(x.count == r.tokens && r.l0 == l0 && abs(r.l1 - l1) < 1e-5 * l1, "L0 \(r.l0) vs \(l0), L1 \(r.l1) vs \(l1)")

        // Per-head rows (hook_z, 9 heads x 64 flattened = 576) and position 0 included.
        var withSink = SAEEvaluationConfig(hook: .z(6), includesPosition0: true)
        withSink.batchSize = 2
        let z = try SAEEvaluation.run(sae, model: m.transformer, sequences: seqs, config: withSink)
        #expect(z.tokens == tokens && z.cePredictions == tokens - seqs.count && z.includesPosition0)
        #expect(abs(z.ceLossScore! - 1) < 1e-4 && abs(z.klDivScore! - 1) < 1e-4 && abs(z.explainedVariance! - 1) < 1e-6)
        #expect(abs(z.ceLossWithoutSAE - r.ceLossWithoutSAE) > 1e-3, "position 0's prediction is scored now")
    }

    @Test func zeroReconstructionScoresZeroAgainstZeroAblation() throws {
        let m = try RealModel.shared()
        let seqs = try Self.sequences(m)
        var sae = try Self.exactSAE(width: 576)
        sae.parameters.wDec = [Float](repeating: 0, count: sae.parameters.wDec.count)
        let r = try SAEEvaluation.run(sae, model: m.transformer, sequences: seqs, config: SAEEvaluationConfig(hook: Self.hook))
        // The SAE run and the zero-ablation run feed the model the same zeros, but they are
        // separate passes: with tests running side by side OpenBLAS's thread count and kernel
        // path can differ between them, so they agree to float rounding (seen: 6e-6 on a CE of
        // 13), not bit for bit. A wrong replacement moves CE by more than 1e-2.
        #expect(abs(r.ceLossScore!) < 1e-5 && abs(r.klDivScore!) < 1e-5, "\(r.ceLossScore!) \(r.klDivScore!)")
        #expect(abs(r.ceLossWithSAE - r.ceLossWithAblation) < 1e-5 * r.ceLossWithAblation)
        // Explained variance of x̂ = 0: 1 - Σ|x|² / Σ|x - mean|², recomputed from captured rows.
        let x = try Self.rows(m, seqs, at: Self.hook)
        let d = 576, n = Double(x.count)
        let mean = (0..<d).map { j in x.reduce(0.0) { $0 + Double($1[j]) } / n }
        let total = x.reduce(0.0) { acc, row in acc + (0..<d).reduce(0.0) { $0 + pow(Double(row[$1]) - mean[$1], 2) } }
        let squares = x.reduce(0.0) { acc, row in acc + row.reduce(0.0) { $0 + Double($1) * Double($1) } }
        #expect(abs(r.explainedVariance! - (1 - squares / total)) < 1e-6 * abs(1 - squares / total))
        #expect(abs(r.mse - squares / (n * Double(d))) < 1e-6 * r.mse && r.l2NormOut == 0 && r.cossim == 0)
        #expect(r.relativeReconstructionBias == nil, "0 / 0: no x̂ to compare")
    }

    /// x̂ = x / 2 (the exact SAE with its decoder halved): shrinkage metrics by hand, and the
    /// SAE pass (resumed at block 6) equal to a full pass whose hook halves the rows.
    @Test func halvedReconstructionShowsShrinkageAndMatchesAFullPass() throws {
        let m = try RealModel.shared()
        let seqs = try Self.sequences(m)
        var sae = try Self.exactSAE(width: 576)
        sae.parameters.wDec = sae.parameters.wDec.map { $0 / 2 }
        let r = try SAEEvaluation.run(sae, model: m.transformer, sequences: seqs, config: SAEEvaluationConfig(hook: Self.hook))
        // |x̂|² / x·x̂ = (|x|²/4) / (|x|²/2); |x̂|/|x| = 1/2; same direction.
        #expect(abs(r.relativeReconstructionBias! - 0.5) < 1e-6 && abs(r.l2Ratio - 0.5) < 1e-6 && abs(r.cossim - 1) < 1e-6)
        #expect(abs(r.l2NormOut - r.l2NormIn / 2) < 1e-6 * r.l2NormIn && abs(r.squaredErrorPerToken - r.mse * 576) < 1e-9 * r.squaredErrorPerToken)
        var half = HookSet()
        half.modify(Self.hook) { act, _ in
            let w = act.count / act.shape[0]
            act.withUnsafeMutableBufferPointer { b in for i in w..<b.count { b[i] /= 2 } }
        }
        let ce = try Self.crossEntropy(m, seqs, hooks: half)
        #expect(abs(r.ceLossWithSAE - ce) < 1e-3 * ce, "\(r.ceLossWithSAE) vs a full pass \(ce)")
        #expect(r.ceLossWithSAE > r.ceLossWithoutSAE && r.klDivWithSAE > 0 && r.ceLossScore! < 1)
        // Without the residual cache the clean pass runs whole: the same numbers.
        var whole = SAEEvaluationConfig(hook: Self.hook)
        whole.residualCacheBytes = 0
        let w = try SAEEvaluation.run(sae, model: m.transformer, sequences: seqs, config: whole)
        #expect(abs(w.ceLossWithoutSAE - r.ceLossWithoutSAE) < 1e-4 && abs(w.ceLossWithSAE - r.ceLossWithSAE) < 1e-4
                    && abs(w.klDivWithSAE - r.klDivWithSAE) < 1e-4 && abs(w.ceLossScore! - r.ceLossScore!) < 1e-4)
    }

    @Test func meanReconstructionScoresZeroAgainstMeanAblation() throws {
        let m = try RealModel.shared()
        let seqs = try Self.sequences(m)
        let x = try Self.rows(m, seqs, at: Self.hook)
        let d = 576
        var p = try SAEParameters(width: d, latents: 64)
        p.bDec = (0..<d).map { j in Float(x.reduce(0.0) { $0 + Double($1[j]) } / Double(x.count)) }
        let r = try SAEEvaluation.run(StandardSAE(parameters: p), model: m.transformer, sequences: seqs,
                                      config: SAEEvaluationConfig(hook: Self.hook))
        // x̂ is this mean; the evaluation's own mean sums in another order (a few ulps apart),
        // which moves the loss by far less than 1e-3 of the mean-ablation gap.
        #expect(abs(r.ceLossScoreMeanAblation!) < 1e-3 && abs(r.klDivScoreMeanAblation!) < 1e-3,
                "\(r.ceLossScoreMeanAblation!) \(r.klDivScoreMeanAblation!)")
        #expect(abs(r.explainedVariance!) < 1e-5 && r.l0 == 0 && r.l1 == 0 && r.deadLatents == 64 && r.deadFraction == 1)
    }

    @Test func refusesAnotherHooksWidthAndTooShortText() throws {
        let m = try RealModel.shared()
        let sae = try Self.exactSAE(width: 576)
        #expect(throws: SAEError.hookWidthMismatch(hook: "blocks.6.mlp.hook_post", hookWidth: 1536, saeWidth: 576)) {
            try SAEEvaluation.run(sae, model: m.transformer, sequences: Self.sequences(m), config: SAEEvaluationConfig(hook: .mlpPost(6)))
        }
        #expect(throws: SAEError.self) {
            try SAEEvaluation.run(sae, model: m.transformer, sequences: [[504], [3575, 282]], config: SAEEvaluationConfig(hook: Self.hook))
        }
        #expect(SAEEvaluation.select([[1, 2], [3, 4, 5], [6], [7, 8]], skipTokens: 3, maxTokens: 2) == [[6], [7, 8]])
    }
}
