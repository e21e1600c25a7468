import Models

/// What each SNMF feature of an MLP writes, read in the vocabulary: ``VocabularyLens`` on the
/// feature's neuron group at `blocks.L.mlp.hook_post` (its residual image `W_down z`).
public enum SNMFVocabularyLens {
    public typealias Effects = VocabularyLens.Effects

    /// The effects of `features` (`[k, dMLP]` row-major, one feature per row) written by
    /// layer `layer`'s MLP, `count` tokens each way.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` when the layer does not exist or the
    ///   features are not as wide as its MLP.
    public static func effects(of features: [Float], rank k: Int, model: Transformer, layer: Int,
                               count: Int = 10) throws -> [Effects] {
        do {
            return try VocabularyLens.effects(of: features, count: k, at: .mlpPost(layer), model: model, top: count)
        } catch AnalysisError.invalid(let message) {
            throw SNMFError.invalidSetting(message)
        }
    }
}
