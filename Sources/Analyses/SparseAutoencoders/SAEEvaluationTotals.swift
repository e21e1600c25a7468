/// Running sums of an SAE evaluation, in Double, from which ``SAEEvaluationResult`` takes its
/// means and ratios: reconstruction sums over the evaluated rows and next-token sums over the
/// evaluated predictions of the four runs (clean, SAE, zero ablation, mean ablation).
public struct SAEEvaluationTotals: Sendable, Equatable, Codable {
    /// Evaluated activation rows.
    public var rows = 0
    /// `Σ |x - x̂|²`, `Σ |x|²`, `Σ x · x̂`, `Σ |x̂|²`.
    public var squaredError = 0.0, squaredNormIn = 0.0, dot = 0.0, squaredNormOut = 0.0
    /// `Σ x` per input dimension (for the variance around the dataset mean).
    public var sumIn: [Double]
    /// `Σ |x|`, `Σ |x̂|`, `Σ cos(x, x̂)`, `Σ |x̂| / |x|` over rows.
    public var normIn = 0.0, normOut = 0.0, cosine = 0.0, normRatio = 0.0
    /// `Σ L0` and `Σ L1` (sum of latent activations) over rows.
    public var l0 = 0.0, l1 = 0.0
    /// Per latent, how many evaluated rows it fired on (activation > 0).
    public var fired: [Int]

    /// Predictions scored by cross-entropy, and `Σ CE` per run.
    public var ceCount = 0
    public var ceClean = 0.0, ceSAE = 0.0, ceZero = 0.0, ceMean = 0.0
    /// Positions scored by KL from the clean run, and `Σ KL` per replaced run.
    public var klCount = 0
    public var klSAE = 0.0, klZero = 0.0, klMean = 0.0

    public init(width: Int, latents: Int) {
        sumIn = [Double](repeating: 0, count: width)
        fired = [Int](repeating: 0, count: latents)
    }

    /// Adds `n` rows: inputs `x` `[n, d_in]`, latents `f` `[n, d_sae]`, reconstructions `xHat`
    /// `[n, d_in]`, all row-major.
    ///
    /// As SAELens's `evals.py`: `|x̂| / |x|` divides by 1 when `|x| < 1e-4`; a cosine with a
    /// zero vector counts 0 (SAELens gets NaN); L1 sums the activations as they are.
    public mutating func addRows(x: [Float], f: [Float], xHat: [Float], rows n: Int) {
        let d = sumIn.count, m = fired.count
        precondition(x.count == n * d && xHat.count == n * d && f.count == n * m, "rows \(n) of widths \(d), \(m)")
        for r in 0..<n {
            var e2 = 0.0, a2 = 0.0, b2 = 0.0, ab = 0.0
            for j in 0..<d {
                let a = Double(x[r * d + j]), b = Double(xHat[r * d + j])
                e2 += (a - b) * (a - b)
                a2 += a * a
                b2 += b * b
                ab += a * b
                sumIn[j] += a
            }
            squaredError += e2
            squaredNormIn += a2
            squaredNormOut += b2
            dot += ab
            let (na, nb) = (a2.squareRoot(), b2.squareRoot())
            normIn += na
            normOut += nb
            cosine += na > 0 && nb > 0 ? ab / (na * nb) : 0
            normRatio += nb / (na < 1e-4 ? 1 : na)
            var active = 0, sum = 0.0
            for i in 0..<m {
                let v = f[r * m + i]
                if v > 0 { active += 1; fired[i] += 1 }
                sum += Double(v)
            }
            l0 += Double(active)
            l1 += sum
        }
        rows += n
    }
}
