import Linalg
import Models

/// What a direction in a hook's activation space writes, read in the vocabulary: its image in
/// the residual stream (the direction itself at residual-width hooks; `W_down z` at
/// `mlp.hook_post`) times the final norm's gain, through the unembedding. A logit lens on the
/// direction: the norm's per-row scale is left out, which does not change the order. Large
/// logits are the tokens the direction promotes, the most negative the ones it suppresses.
public enum VocabularyLens {
    /// One direction's promoted and suppressed tokens, most extreme first.
    public struct Effects: Sendable {
        public var promoted: [(token: Int, logit: Float)]
        public var suppressed: [(token: Int, logit: Float)]
    }

    /// Whether the lens reads directions at `point`: residual-width points (`hook_resid_pre`,
    /// `hook_resid_mid`, `hook_resid_post`, `hook_attn_out`, `hook_mlp_out`) and `mlp.hook_post`.
    public static func reads(_ point: HookPoint) -> Bool {
        switch point {
        case .residPre, .residMid, .residPost, .attnOut, .mlpOut, .mlpPost: return true
        default: return false
        }
    }

    /// The effects of `count` directions (`directions` row-major, `[count, width]`) at `point`,
    /// `top` tokens each way.
    /// - Throws: ``AnalysisError/invalid(_:)`` when the lens does not read `point`, its layer
    ///   does not exist, or the directions are not as wide as the point's activations.
    public static func effects(of directions: [Float], count k: Int, at point: HookPoint, model: Transformer,
                               top: Int = 10) throws -> [Effects] {
        guard reads(point) else {
            throw AnalysisError.invalid("the vocabulary lens reads residual-stream and mlp.hook_post directions, not \(point.name)")
        }
        let weights = model.weights
        if let layer = point.layer, !weights.layers.indices.contains(layer) {
            throw AnalysisError.invalid("\(point.name): layer \(layer) is outside the model's \(weights.layers.count) layers")
        }
        let dModel = weights.finalNorm.count
        var width = dModel
        if case .mlpPost(let layer) = point { width = weights.layers[layer].wDown.shape.last ?? 0 }
        guard k > 0, directions.count == k * width else {
            throw AnalysisError.invalid("\(k) directions of \(k > 0 ? directions.count / k : 0) values; \(point.name) has width \(width)")
        }
        var image = Tensor(shape: [k, width], scalars: directions)
        if case .mlpPost(let layer) = point { image = weights.layers[layer].wDown.multiply(image) }  // [k, dModel]
        let gain = weights.finalNorm.scalars
        image.withUnsafeMutableBufferPointer { p in
            for f in 0..<k { for j in 0..<dModel { p[f * dModel + j] *= gain[j] } }
        }
        let logits = weights.unembed.multiply(image)  // [k, vocab]
        let vocab = logits.shape[1], n = min(top, vocab)
        return (0..<k).map { f in
            let row = logits.scalars[(f * vocab)..<((f + 1) * vocab)]
            let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            return Effects(promoted: order.prefix(n).map { ($0 - f * vocab, row[$0]) },
                           suppressed: order.suffix(n).reversed().map { ($0 - f * vocab, row[$0]) })
        }
    }
}
