import Linalg
import Models

/// What each SNMF feature of an MLP writes, read in the vocabulary: the feature's residual
/// image `W_down z` times the final norm's gain, through the unembedding (a logit lens on
/// the direction; the norm's per-row scale is left out, which does not change the order).
/// Large logits are the tokens the feature promotes, the most negative the ones it suppresses.
public enum SNMFVocabularyLens {
    /// One feature's promoted and suppressed tokens, most extreme first.
    public struct Effects: Sendable {
        public var promoted: [(token: Int, logit: Float)]
        public var suppressed: [(token: Int, logit: Float)]
    }

    /// The effects of `features` (`[k, dMLP]` row-major, one feature per row) written by
    /// layer `layer`'s MLP, `count` tokens each way.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` when the layer does not exist or the
    ///   features are not as wide as its MLP.
    public static func effects(of features: [Float], rank k: Int, model: Transformer, layer: Int,
                               count: Int = 10) throws -> [Effects] {
        guard model.weights.layers.indices.contains(layer) else {
            throw SNMFError.invalidSetting("layer \(layer) is outside the model's \(model.weights.layers.count) layers")
        }
        let wDown = model.weights.layers[layer].wDown  // [dModel, dMLP]
        guard k > 0, wDown.rank == 2, features.count == k * wDown.shape[1] else {
            throw SNMFError.invalidSetting("\(k) features of \(k > 0 ? features.count / k : 0) neurons; layer \(layer)'s MLP has \(wDown.shape.last ?? 0)")
        }
        var image = Tensor(shape: [k, wDown.shape[1]], scalars: features).matmulTransposed(wDown)  // [k, dModel]
        let gain = model.weights.finalNorm.scalars
        let d = wDown.shape[0]
        image.withUnsafeMutableBufferPointer { p in
            for f in 0..<k { for j in 0..<d { p[f * d + j] *= gain[j] } }
        }
        let logits = image.matmulTransposed(model.weights.unembed)  // [k, vocab]
        let vocab = logits.shape[1], n = min(count, vocab)
        return (0..<k).map { f in
            let row = logits.scalars[(f * vocab)..<((f + 1) * vocab)]
            let order = row.indices.sorted { row[$0] > row[$1] }
            return Effects(promoted: order.prefix(n).map { ($0 - f * vocab, row[$0]) },
                           suppressed: order.suffix(n).reversed().map { ($0 - f * vocab, row[$0]) })
        }
    }
}
