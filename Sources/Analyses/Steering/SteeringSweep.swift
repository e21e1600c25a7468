import Foundation
import Models
import Store
import Tokenizers

/// `loupe steer sweep`: derive a direction at every chosen layer from one contrast set (one
/// batched capture of all layers), then measure effect and fluency cost at each
/// (layer, strength): the concept tokens' next-token probability on held-out prompts and
/// the KL on neutral text (``SteeringMeasures``). No generation: each cell is two batched
/// forward passes, so a 30 x 3 sweep over 10 prompts takes about 2.5 minutes on two shared cores.
public struct SteeringSweep {
    public enum Method: String, Codable, Sendable, CaseIterable {
        case meanDifference = "mean-diff"
        case principalComponent = "pca"
    }

    public let model: Transformer
    public let tokenizer: Tokenizer
    public var pairs: [ContrastPair]
    public var method: Method
    public var rule: PositionRule
    public var layers: [Int]
    /// Strengths (not ``SteeringStrength/targetKL(_:)``).
    public var strengths: [SteeringStrength]
    /// The hook steered at layer L (default `blocks.L.hook_resid_post`).
    public var site: @Sendable (Int) -> HookPoint = { .residPost($0) }

    public init(model: Transformer, tokenizer: Tokenizer, pairs: [ContrastPair], method: Method = .meanDifference,
                rule: PositionRule = .meanExcludingFirst, layers: [Int], strengths: [SteeringStrength]) {
        self.model = model
        self.tokenizer = tokenizer
        self.pairs = pairs
        self.method = method
        self.rule = rule
        self.layers = layers
        self.strengths = strengths
    }

    public struct Cell: Codable, Sendable {
        public var layer: Int
        public var strength: String
        public var normMultiple: Double
        public var scale: Double
        /// Mean concept probability, steered.
        public var conceptProbability: Double
        /// Steered minus unsteered concept probability.
        public var effect: Double
        /// Mean concept readout score (a probe's probability), steered, and its change; nil without a readout.
        public var readoutScore: Double?
        public var readoutEffect: Double?
        /// Mean KL on neutral text, nats.
        public var klNeutral: Double
    }

    public struct Result: Codable, Sendable {
        public var method: String
        public var positionRule: String
        public var pairs: Int
        public var conceptTokens: [String]
        public var baselineConceptProbability: Double
        /// The concept readout's name and its unsteered mean score, when one was given.
        public var readout: String?
        public var baselineReadoutScore: Double?
        /// Per layer: the direction's norm and the hook's typical row norm.
        public var directionNorms: [Double]
        public var typicalNorms: [Double]
        public var layers: [Int]
        public var strengths: [String]
        /// Row-major by layer, then strength.
        public var cells: [Cell]

        /// The cell with the largest effect whose neutral KL is at most `maxKL`.
        public func best(maxKL: Double) -> Cell? {
            cells.filter { $0.klNeutral <= maxKL }.max { $0.effect < $1.effect }
        }
    }

    /// The directions this sweep derives, per layer (also used by `derive --layers`).
    public func directions(progress: ((String) -> Void)? = nil) throws -> [SteeringDirection] {
        guard !pairs.isEmpty else { throw SteeringError.emptyContrastSet("no contrastive pairs given") }
        let points = layers.map(site)
        for p in points where !model.config.hasHookPoint(p) { _ = try model.config.hookPoint(named: p.name) }
        progress?("capturing \(pairs.count) pairs at \(points.count) hook points")
        let acts = try ContrastActivations.collect(pairs, at: points, rule: rule,
                                                   pooling: ActivationPooling(model: model, tokenizer: tokenizer))
        return try points.map { p in
            let a = acts[p]!
            let v: [Float]
            var notes: [String: String] = [:]
            switch method {
            case .meanDifference: v = try a.meanDifference()
            case .principalComponent:
                let r = try a.principalComponent()
                v = r.vector
                notes["explained"] = String(format: "%.4f", r.explained)
            }
            let kind: DirectionSourceKind = method == .meanDifference ? .meanDifference : .principalComponent
            return SteeringDirection(vector: v, hook: p.name, provenance: .init(
                source: kind.rawValue, model: model.config.name, pairs: pairs.count, layer: p.layer,
                norm: SteeringMath.norm(v), positionRule: rule.rawValue, notes: notes))
        }
    }

    /// Runs the sweep; `progress` gets one line per layer. A `readout` (e.g. a probe) is
    /// scored at each prompt's last position in the same passes as the concept tokens.
    /// `layerDone` gets each layer's cells as a one-layer result when the layer is swept (a
    /// shard saves them); a layer's numbers do not depend on the other layers swept.
    public func run(prompts: [String], neutral: [String], conceptTokens: [Int], readout: ConceptReadout? = nil,
                    progress: ((String) -> Void)? = nil, layerDone: ((Result) throws -> Void)? = nil) throws -> Result {
        guard !prompts.isEmpty else { throw SteeringError.invalid("no held-out prompt given") }
        guard !conceptTokens.isEmpty else { throw SteeringError.invalid("no concept token given: the sweep's effect is their probability") }
        if strengths.contains(where: { if case .targetKL = $0 { return true } else { return false } }) {
            throw SteeringError.invalid("a sweep takes fixed strengths (gentle/medium/strong, norm:K, raw:A), not kl:T")
        }
        let dirs = try directions(progress: progress)
        let points = layers.map(site)
        let norms = try ActivationPooling(model: model, tokenizer: tokenizer).typicalNorm(at: points, prompts: neutral)
        let measures = try SteeringMeasures(model: model, prompts: prompts.map { try tokenizer.encode($0) },
                                            neutral: neutral.map { try tokenizer.encode($0) }, conceptTokens: conceptTokens,
                                            readout: readout)
        var cells: [Cell] = []
        func result(_ directionNorms: [Double], _ typicalNorms: [Double], _ layers: [Int], _ cells: [Cell]) -> Result {
            Result(method: method.rawValue, positionRule: rule.rawValue, pairs: pairs.count,
                   conceptTokens: conceptTokens.map { tokenizer.tokenString($0) },
                   baselineConceptProbability: measures.baseConceptProbability,
                   readout: readout?.name, baselineReadoutScore: measures.baseReadoutScore,
                   directionNorms: directionNorms, typicalNorms: typicalNorms,
                   layers: layers, strengths: strengths.map(\.description), cells: cells)
        }
        for (layer, (d, p)) in zip(layers, zip(dirs, points)) {
            progress?("layer \(layer): \(strengths.count) strengths")
            for s in strengths {
                let scale = s.rawScale(vectorNorm: d.norm, typicalNorm: norms[p]!)!
                let hooks = SteeringMeasures.measurementHooks([try SteeringIntervention(direction: d, config: model.config, scale: scale)])
                let scores = try measures.promptScores(hooks)
                let mean = SteeringExperiment.mean(scores.concept)
                let probe = readout == nil ? nil : SteeringExperiment.mean(scores.readout)
                cells.append(Cell(layer: layer, strength: s.description, normMultiple: scale * d.norm / norms[p]!, scale: scale,
                                  conceptProbability: mean, effect: mean - measures.baseConceptProbability,
                                  readoutScore: probe, readoutEffect: probe.map { $0 - measures.baseReadoutScore! },
                                  klNeutral: try measures.klOnNeutral(hooks)))
            }
            try layerDone?(result([d.norm], [norms[p]!], [layer], Array(cells.suffix(strengths.count))))
        }
        return result(dirs.map(\.norm), points.map { norms[$0]! }, layers, cells)
    }
}
