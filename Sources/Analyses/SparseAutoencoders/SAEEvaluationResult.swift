/// What ``SAEEvaluation`` measured, under SAELens's metric names (`evals.py`), so numbers
/// compare. JSON keys are SAELens's snake_case names; the per-latent firing counts are not in
/// the JSON (``featureDensity``, written as CSV by ``write(to:)``).
///
/// Means are over the evaluated rows (activations) or predictions; ratios are taken on the
/// totals over the whole evaluation, not per batch. A score is nil (absent from the JSON)
/// when its denominator is 0.
public struct SAEEvaluationResult: Encodable, Sendable {
    public let hook: String
    public let architecture: String
    public let dIn: Int, dSAE: Int
    /// Sequences (windows, prompts) run.
    public let sequences: Int
    /// Whether position 0 was replaced and measured (false by default: it is the attention
    /// sink, its norm ~100x the others, and SAEs are trained without it).
    public let includesPosition0: Bool
    /// Activation rows measured (one per evaluated position).
    public let tokens: Int
    /// Next-token predictions scored by cross-entropy (evaluated positions but each
    /// sequence's last) and positions scored by KL.
    public let cePredictions: Int, klPositions: Int

    /// Mean cross-entropy of the next token, nats: the clean model, with the SAE's
    /// reconstruction in place of the activation, with the activation zeroed, with the
    /// activation replaced by its mean over the evaluated rows.
    public let ceLossWithoutSAE: Double, ceLossWithSAE: Double, ceLossWithAblation: Double, ceLossWithMeanAblation: Double
    /// `(CE ablation - CE SAE) / (CE ablation - CE clean)`, against zero and mean ablation.
    public let ceLossScore: Double?, ceLossScoreMeanAblation: Double?
    /// Mean `KL(clean || run)` of the next-token distributions, nats.
    public let klDivWithSAE: Double, klDivWithAblation: Double, klDivWithMeanAblation: Double
    /// `(KL ablation - KL SAE) / KL ablation`, against zero and mean ablation.
    public let klDivScore: Double?, klDivScoreMeanAblation: Double?

    /// `1 - Σ|x - x̂|² / Σ|x - mean(x)|²`, the mean taken over the evaluated rows.
    public let explainedVariance: Double?
    /// Mean squared error per element (`Σ|x - x̂|² / (rows · d_in)`).
    public let mse: Double
    /// Mean over rows of `|x - x̂|²` (the trainer's `mse`).
    public let squaredErrorPerToken: Double
    /// Mean cosine of `x` and `x̂`.
    public let cossim: Double
    /// Mean `|x|`, mean `|x̂|`, mean `|x̂| / |x|`.
    public let l2NormIn: Double, l2NormOut: Double, l2Ratio: Double
    /// `mean |x̂|² / mean x · x̂` (Gated SAE paper, eq. 10): below 1 means shrinkage.
    public let relativeReconstructionBias: Double?
    /// Mean active latents and mean sum of latent activations per row.
    public let l0: Double, l1: Double
    /// Latents that never fired on an evaluated row.
    public let deadLatents: Int, deadFraction: Double
    /// Latents firing on more than ``denseThreshold`` of the rows.
    public let denseLatents: Int, denseFraction: Double, denseThreshold: Double
    /// Per latent, the share of evaluated rows it fired on.
    public let featureDensity: [Double]

    enum CodingKeys: String, CodingKey {
        case hook, architecture, sequences, tokens, mse, cossim, l0, l1
        case dIn = "d_in", dSAE = "d_sae", includesPosition0 = "includes_position_0"
        case cePredictions = "ce_predictions", klPositions = "kl_positions"
        case ceLossWithoutSAE = "ce_loss_without_sae", ceLossWithSAE = "ce_loss_with_sae"
        case ceLossWithAblation = "ce_loss_with_ablation", ceLossWithMeanAblation = "ce_loss_with_mean_ablation"
        case ceLossScore = "ce_loss_score", ceLossScoreMeanAblation = "ce_loss_score_mean_ablation"
        case klDivWithSAE = "kl_div_with_sae", klDivWithAblation = "kl_div_with_ablation"
        case klDivWithMeanAblation = "kl_div_with_mean_ablation"
        case klDivScore = "kl_div_score", klDivScoreMeanAblation = "kl_div_score_mean_ablation"
        case explainedVariance = "explained_variance", squaredErrorPerToken = "squared_error_per_token"
        case l2NormIn = "l2_norm_in", l2NormOut = "l2_norm_out", l2Ratio = "l2_ratio"
        case relativeReconstructionBias = "relative_reconstruction_bias"
        case deadLatents = "dead_latents", deadFraction = "dead_fraction"
        case denseLatents = "dense_latents", denseFraction = "dense_fraction", denseThreshold = "dense_threshold"
    }

    /// The metrics of `totals` (which must hold at least one row and one prediction).
    public init(totals t: SAEEvaluationTotals, hook: String, architecture: String, sequences: Int,
                includesPosition0: Bool, denseThreshold: Double) {
        func ratio(_ a: Double, _ b: Double) -> Double? { b != 0 && a.isFinite && b.isFinite ? a / b : nil }
        let n = Double(max(t.rows, 1)), d = t.sumIn.count
        self.hook = hook
        self.architecture = architecture
        dIn = d
        dSAE = t.fired.count
        self.sequences = sequences
        self.includesPosition0 = includesPosition0
        tokens = t.rows
        cePredictions = t.ceCount
        klPositions = t.klCount
        let c = Double(max(t.ceCount, 1)), k = Double(max(t.klCount, 1))
        ceLossWithoutSAE = t.ceClean / c
        ceLossWithSAE = t.ceSAE / c
        ceLossWithAblation = t.ceZero / c
        ceLossWithMeanAblation = t.ceMean / c
        ceLossScore = Self.score(ablation: ceLossWithAblation, sae: ceLossWithSAE, clean: ceLossWithoutSAE)
        ceLossScoreMeanAblation = Self.score(ablation: ceLossWithMeanAblation, sae: ceLossWithSAE, clean: ceLossWithoutSAE)
        klDivWithSAE = t.klSAE / k
        klDivWithAblation = t.klZero / k
        klDivWithMeanAblation = t.klMean / k
        klDivScore = ratio(klDivWithAblation - klDivWithSAE, klDivWithAblation)
        klDivScoreMeanAblation = ratio(klDivWithMeanAblation - klDivWithSAE, klDivWithMeanAblation)
        // Σ|x - μ|² = Σ|x|² - n|μ|², μ the mean row.
        let meanSquared = t.sumIn.reduce(0) { $0 + ($1 / n) * ($1 / n) }
        let variance = t.squaredNormIn - n * meanSquared
        explainedVariance = ratio(t.squaredError, variance).map { 1 - $0 }
        mse = t.squaredError / (n * Double(max(d, 1)))
        squaredErrorPerToken = t.squaredError / n
        cossim = t.cosine / n
        l2NormIn = t.normIn / n
        l2NormOut = t.normOut / n
        l2Ratio = t.normRatio / n
        relativeReconstructionBias = ratio(t.squaredNormOut, t.dot)
        l0 = t.l0 / n
        l1 = t.l1 / n
        featureDensity = t.fired.map { Double($0) / n }
        deadLatents = t.fired.filter { $0 == 0 }.count
        deadFraction = Double(deadLatents) / Double(max(dSAE, 1))
        denseLatents = featureDensity.filter { $0 > denseThreshold }.count
        denseFraction = Double(denseLatents) / Double(max(dSAE, 1))
        self.denseThreshold = denseThreshold
    }

    /// `(ablation - sae) / (ablation - clean)`: the share of the loss the ablation adds that the
    /// SAE's reconstruction takes back; nil when the ablation changes nothing.
    public static func score(ablation: Double, sae: Double, clean: Double) -> Double? {
        let gap = ablation - clean
        return gap != 0 && gap.isFinite ? (ablation - sae) / gap : nil
    }

    /// The metrics in display order: (SAELens group, name, value); nil values are scores
    /// whose denominator was 0.
    public var table: [(group: String, name: String, value: Double?)] {
        [("model_performance_preservation", "ce_loss_score", ceLossScore),
         ("model_performance_preservation", "ce_loss_score_mean_ablation", ceLossScoreMeanAblation),
         ("model_performance_preservation", "ce_loss_without_sae", ceLossWithoutSAE),
         ("model_performance_preservation", "ce_loss_with_sae", ceLossWithSAE),
         ("model_performance_preservation", "ce_loss_with_ablation", ceLossWithAblation),
         ("model_performance_preservation", "ce_loss_with_mean_ablation", ceLossWithMeanAblation),
         ("model_behavior_preservation", "kl_div_score", klDivScore),
         ("model_behavior_preservation", "kl_div_score_mean_ablation", klDivScoreMeanAblation),
         ("model_behavior_preservation", "kl_div_with_sae", klDivWithSAE),
         ("model_behavior_preservation", "kl_div_with_ablation", klDivWithAblation),
         ("model_behavior_preservation", "kl_div_with_mean_ablation", klDivWithMeanAblation),
         ("reconstruction_quality", "explained_variance", explainedVariance),
         ("reconstruction_quality", "mse", mse),
         ("reconstruction_quality", "squared_error_per_token", squaredErrorPerToken),
         ("reconstruction_quality", "cossim", cossim),
         ("shrinkage", "l2_norm_in", l2NormIn),
         ("shrinkage", "l2_norm_out", l2NormOut),
         ("shrinkage", "l2_ratio", l2Ratio),
         ("shrinkage", "relative_reconstruction_bias", relativeReconstructionBias),
         ("sparsity", "l0", l0),
         ("sparsity", "l1", l1),
         ("sparsity", "dead_fraction", deadFraction),
         ("sparsity", "dense_fraction", denseFraction)]
    }
}
