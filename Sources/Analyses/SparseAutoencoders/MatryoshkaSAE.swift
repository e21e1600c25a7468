import Foundation
import Linalg

/// The Matryoshka BatchTopK SAE (Bussmann et al. 2025; SAELens `matryoshka_batchtopk`): a
/// ``BatchTopKSAE`` whose nested dictionary prefixes (`widths`, strictly increasing, the last
/// `d_sae`) each reconstruct the input on their own. As in SAELens, every inner prefix runs its
/// own BatchTopK (`k · rows` largest among its latents) and adds its squared error to the loss
/// unweighted: loss = `|x - x̂|²` (all latents) + aux-k + Σ over inner widths `|x - x̂_w|²`.
/// Early latents so learn what matters most without leaning on later ones. The threshold
/// estimate and inference are BatchTopK's (a JumpReLU with one global threshold), and it is
/// saved as `jumprelu`.
public struct MatryoshkaSAE: SparseAutoencoder {
    /// The BatchTopK SAE over all latents (weights, k, auxiliary loss, threshold).
    public var base: BatchTopKSAE
    /// Prefix widths, strictly increasing, the last `d_sae`.
    public let widths: [Int]
    public var architecture: String { "matryoshka_batchtopk" }
    public var parameters: SAEParameters {
        get { base.parameters }
        set { base.parameters = newValue }
        _modify { yield &base.parameters }
    }
    public var inferenceThreshold: [Float]? { base.inferenceThreshold }

    /// - Throws: ``SAEError/badSize(_:)`` unless the widths increase strictly from at least `k`
    ///   and the last is `d_sae` (a missing `d_sae` is appended, as SAELens does).
    public init(base: BatchTopKSAE, widths: [Int]) throws {
        let m = base.latents
        var w = widths
        if w.last != m { w.append(m) }
        guard w[0] >= base.k else { throw SAEError.badSize("Matryoshka width \(w[0]) is smaller than k \(base.k)") }
        for (a, b) in zip(w, w.dropFirst()) where a >= b {
            throw SAEError.badSize("Matryoshka widths \(widths) must increase strictly and stay within d_sae \(m)")
        }
        self.base = base
        self.widths = w
    }

    /// The default widths: d_sae / 16, / 8, / 4, / 2 and d_sae (those at least `k`, distinct).
    public static func defaultWidths(latents m: Int, k: Int) -> [Int] {
        var w: [Int] = []
        for div in [16, 8, 4, 2, 1] where m / div >= max(k, 1) && m / div > (w.last ?? 0) { w.append(m / div) }
        return w
    }

    /// Parses `--matryoshka-widths` text: comma-separated positive integers.
    /// - Throws: ``SAEError/badSize(_:)`` naming the item that is not one.
    public static func parseWidths(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { item in
            let s = item.trimmingCharacters(in: .whitespaces)
            guard let v = Int(s), v > 0 else { throw SAEError.badSize("Matryoshka width '\(s)' in '\(text)' is not a positive integer") }
            return v
        }
    }

    public func encode(_ x: Tensor) throws -> Tensor { try base.encode(x) }

    public func lossAndGradients(_ x: Tensor, target: Tensor?, options: SAELossOptions) throws -> (SAEBatchStats, SAEParameters) {
        try checkInput(x)
        let n = x.shape[0]
        guard n > 0 else { throw SAEError.noRows("an empty batch has no loss") }
        let (pre, centred) = preActivations(x)
        var g = try SAEParameters(width: width, latents: latents)
        var entries: [(row: Int, latent: Int, grad: Float)] = []
        let (start, variance) = try residualBase(x, target: target)
        let full = try base.prefixLoss(x, base: start, pre: pre, width: latents, share: options.share, into: &g, entries: &entries)
        var extra = base.auxiliaryLoss(pre: pre, residual: full.residual, rows: n, dead: options.dead, auxK: base.auxK,
                                       alpha: base.auxAlpha, into: &g, entries: &entries)
        for w in widths.dropLast() {
            extra += try base.prefixLoss(x, base: start, pre: pre, width: w, share: options.share, into: &g, entries: &entries).squared / Double(n)
        }
        addSparseEncoderGradients(entries, centred: centred, into: &g)
        return (full.stats(rows: n, variance: variance, extra: extra), g)
    }

    public mutating func observe(_ stats: SAEBatchStats) { base.observe(stats) }
    public func constrainGradient(_ gradient: inout SAEParameters) { base.constrainGradient(&gradient) }
    public mutating func constrainParameters() { base.constrainParameters() }
}
