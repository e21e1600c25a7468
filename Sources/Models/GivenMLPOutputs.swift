import Linalg

/// MLP outputs a resumed pass takes as given instead of computing them
/// (``Transformer/forward(resuming:residuals:caches:hooks:logits:given:)``): at each layer of
/// `sources`, every sequence's first row (the position it resumes at) gets row `position` of
/// that layer's `[positions, dModel]` tensor as its `mlp_out`, and only the other rows' MLPs
/// run. Causal tracing restores its MLP windows this way: the restored row's MLP, whose
/// output would be thrown away, is never computed.
///
/// Hooks see the given rows as if the MLP had produced them (at `mlp_out` and after). When a
/// hook watches the MLP's inside at such a layer (`mlp.hook_pre`, `mlp.hook_post`), every
/// row's MLP runs there and the first rows are overwritten before `mlp_out`.
public struct GivenMLPOutputs: Sendable {
    /// `[positions, dModel]` per layer.
    public var sources: [Int: Tensor]

    public init(_ sources: [Int: Tensor] = [:]) { self.sources = sources }

    /// Throws unless every source is `[positions, dModel]` with a row for each of `positions`
    /// (layers outside the model are a programming error).
    func validate(config: TransformerConfig, positions: [Int]) throws {
        let needed = (positions.max() ?? -1) + 1
        for (layer, source) in sources {
            precondition(layer >= 0 && layer < config.nLayers, "given mlp_out at layer \(layer) of \(config.nLayers)")
            guard source.rank == 2, source.shape[1] == config.dModel, source.shape[0] >= needed else {
                throw ModelError.hookShape(hook: HookPoint.mlpOut(layer).name, expected: [needed, config.dModel],
                                           found: source.shape)
            }
        }
    }
}
