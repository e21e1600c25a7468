import Linalg
import Models

/// Setting or scaling transcoder features in the model and reading the logits, as
/// circuit-tracer's `feature_intervention` does. The real forward pass runs with its MLPs and
/// norms live; at each edited layer the transcoder encodes the current MLP input, and the
/// edited features' decoder rows times (new value - current activation) are added to the MLP
/// output, so later layers see the change and respond to it. With `freezeAttention` (the
/// default, circuit-tracer's `freeze_attention=True`) the prompt's attention patterns are
/// frozen; without it (`freeze_attention=False`) nothing is frozen: every layer's attention
/// pattern is recomputed from the edited residual stream. Norm scales follow the edited
/// stream in both modes (circuit-tracer freezes them only for `constrained_layers`).
public struct FeatureIntervention: Sendable {
    public let replacement: LocalReplacementModel

    public init(_ replacement: LocalReplacementModel) { self.replacement = replacement }

    /// One edit of one feature at one position.
    public struct Edit: Sendable, Equatable {
        public var layer: Int
        public var position: Int
        public var feature: Int
        public var change: Change

        public enum Change: Sendable, Equatable {
            /// The activation becomes this value.
            case set(Float)
            /// The activation becomes this times its value in the unedited pass.
            case scale(Float)
        }

        public init(layer: Int, position: Int, feature: Int, change: Change) {
            (self.layer, self.position, self.feature, self.change) = (layer, position, feature, change)
        }
    }

    /// The last position's logits `[vocab]` with `edits` applied, attention frozen or
    /// (`freezeAttention` false) recomputed.
    /// - Throws: ``GraphError/badOption(_:)`` for an edit outside the model, prompt or dictionary.
    public func logits(_ edits: [Edit], freezeAttention: Bool = true) throws -> [Float] {
        let r = replacement, c = r.config, n = r.positions, d = c.dModel
        var targets: [Int: [(position: Int, feature: Int, value: Float)]] = [:]
        for e in edits {
            guard (0..<c.nLayers).contains(e.layer) else { throw GraphError.badOption("edit at layer \(e.layer): the model has layers 0..<\(c.nLayers)") }
            guard (0..<n).contains(e.position) else { throw GraphError.badOption("edit at position \(e.position): the prompt has positions 0..<\(n)") }
            let tc = r.transcoders.transcoders[e.layer]
            guard (0..<tc.latents).contains(e.feature) else { throw GraphError.badOption("edit of feature \(e.feature): layer \(e.layer)'s transcoder has \(tc.latents)") }
            let value: Float
            switch e.change {
            case .set(let v): value = v
            case .scale(let s): value = s * (try activations(layer: e.layer, input: Array(r.mlpInputs[e.layer][(e.position * d)..<((e.position + 1) * d)]), position: e.position)[e.feature])
            }
            targets[e.layer, default: []].append((e.position, e.feature, value))
        }
        final class Deltas: @unchecked Sendable { var byLayer: [Int: [Float]] = [:]; var failure: (any Error)? }
        let box = Deltas()
        var hooks = HookSet()
        for l in 0..<c.nLayers {
            if freezeAttention {
                let frozen = r.patterns[l]
                hooks.modify(.pattern(l)) { act, _ in act = Tensor(shape: act.shape, scalars: frozen) }
            }
            guard let edits = targets[l] else { continue }
            let tc = r.transcoders.transcoders[l]
            hooks.observe(.mlpIn(l)) { x, _ in
                var delta = [Float](repeating: 0, count: n * d)
                for e in edits {
                    do {
                        let current = try self.activations(layer: l, input: Array(x.scalars[(e.position * d)..<((e.position + 1) * d)]), position: e.position)[e.feature]
                        for j in 0..<d { delta[e.position * d + j] += (e.value - current) * tc.parameters.wDec[e.feature * d + j] }
                    } catch { box.failure = error }
                }
                box.byLayer[l] = delta
            }
            hooks.modify(.mlpOut(l)) { y, _ in
                guard let delta = box.byLayer[l] else { return }
                y.withUnsafeMutableBufferPointer { for i in 0..<(n * d) { $0[i] += delta[i] } }
            }
        }
        let out = try r.model.forward([r.tokens], hooks: hooks, logits: .last)
        if let failure = box.failure { throw failure }
        return out.logits[0].scalars
    }

    /// The graph's own prediction for `edits`: the last position's logits `[vocab]` of the
    /// frozen replacement model (``FrozenForward``: attention patterns, norm scales, error
    /// nodes and every other feature held at the prompt's values) with each edited feature's
    /// activation changed. A demeaned logit then moves by exactly the sum of the edited
    /// features' edges into that logit node times their relative change (the direct effects
    /// the graph draws), where ``logits(_:freezeAttention:)`` also lets later features and
    /// MLPs respond. nil when an edit names a feature that is not active at its position (no node).
    public func frozenLogits(_ edits: [Edit]) -> [Float]? {
        let r = replacement, n = r.positions, vocab = r.config.vocabSize
        var scales = [Float](repeating: 1, count: r.features.count)
        for e in edits {
            guard let i = r.features.firstIndex(where: { $0.layer == e.layer && $0.position == e.position && $0.feature == e.feature }) else { return nil }
            switch e.change {
            case .set(let v): scales[i] = v / r.features[i].activation
            case .scale(let s): scales[i] = s
            }
        }
        return Array(FrozenForward(r).run(featureScales: scales).logits[((n - 1) * vocab)..<(n * vocab)])
    }

    /// The transcoder's activations `[d_sae]` of one MLP input row; zero at position 0, which
    /// circuit-tracer leaves out of the features.
    func activations(layer: Int, input: [Float], position: Int) throws -> [Float] {
        let tc = replacement.transcoders.transcoders[layer]
        guard position > 0 else { return [Float](repeating: 0, count: tc.latents) }
        return try tc.encode(Tensor(shape: [1, input.count], scalars: input)).scalars
    }
}
