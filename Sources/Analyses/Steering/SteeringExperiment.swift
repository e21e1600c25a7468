import Foundation
import Models
import Tokenizers

/// `loupe steer apply`: generations without and with steering, side by side per prompt
/// and strength, with the effect and fluency numbers of ``SteeringMeasures``.
///
/// Every generation of one prompt uses the same sampling seed, so the steered and
/// unsteered texts differ only by the steering.
public struct SteeringExperiment {
    public let model: Transformer
    public let tokenizer: Tokenizer
    public var directions: [SteeringDirection]
    public var mode: SteeringIntervention.Mode
    public var positions: SteeringIntervention.Positions
    /// Strengths tried (ignored when ablating: one ablated run per prompt).
    public var strengths: [SteeringStrength]
    public var sampling: SamplingParameters
    public var maxNewTokens: Int
    public var stopTokens: Set<Int>
    /// With ``SteeringIntervention/Mode/ablate``: where each row's projection is set.
    public var ablateTo: AblationTarget
    /// With ``SteeringIntervention/Mode/ablate``: ablate position 0 too (see
    /// ``SteeringIntervention/ablatesFirstPosition``).
    public var ablatesFirstPosition: Bool

    /// The projection an ablation leaves on the direction.
    public enum AblationTarget: String, Sendable, Codable, CaseIterable {
        /// 0: nothing along the direction (Arditi et al. 2024).
        case zero
        /// The neutral text's mean projection (positions 1...): a mean ablation, for
        /// directions whose zero is not where ordinary text sits.
        case neutralMean = "neutral-mean"
    }

    public init(model: Transformer, tokenizer: Tokenizer, directions: [SteeringDirection], mode: SteeringIntervention.Mode = .add,
                positions: SteeringIntervention.Positions = .all, strengths: [SteeringStrength] = [.named(.medium)],
                sampling: SamplingParameters = .greedy, maxNewTokens: Int = 24, stopTokens: Set<Int> = [],
                ablateTo: AblationTarget = .zero, ablatesFirstPosition: Bool = false) {
        self.model = model
        self.tokenizer = tokenizer
        self.directions = directions
        self.mode = mode
        self.positions = positions
        self.strengths = strengths
        self.sampling = sampling
        self.maxNewTokens = maxNewTokens
        self.stopTokens = stopTokens
        self.ablateTo = ablateTo
        self.ablatesFirstPosition = ablatesFirstPosition
    }

    /// One generated text.
    public struct Generation: Codable, Sendable {
        public var text: String
        public var tokens: [Int]
        /// Perplexity of `tokens` after the prompt under the unsteered model.
        public var perplexity: Double
    }

    /// One setting's numbers (a strength, or the ablation).
    public struct Setting: Codable, Sendable {
        public var label: String
        /// Raw scale per direction (0 when ablating).
        public var scales: [Double]
        /// The same as multiples of each hook's typical norm.
        public var normMultiples: [Double]
        /// Mean next-token probability of the concept tokens on the prompts (steered).
        public var conceptProbability: Double?
        /// Mean concept readout score (a probe's probability) at the prompts' last position (steered).
        public var readoutScore: Double?
        /// Mean KL on neutral text, nats.
        public var klNeutral: Double
        /// Mean perplexity of the steered generations under the unsteered model.
        public var meanPerplexity: Double
    }

    public struct PromptResult: Codable, Sendable {
        public var prompt: String
        public var unsteered: Generation
        /// One per setting, in ``Result/settings`` order.
        public var steered: [Generation]
    }

    public struct Result: Codable, Sendable {
        public var directions: [String]
        public var mode: String
        public var positions: String
        public var sampling: SamplingParameters
        public var typicalNorms: [String: Double]
        /// Each direction's mean projection on the neutral text (positions 1...).
        public var neutralProjections: [Double]
        /// With --mode ablate: the projection each direction's rows are set to.
        public var ablationTargets: [Double]?
        /// With --mode ablate: whether position 0 was ablated too.
        public var ablatesFirstPosition: Bool?
        public var conceptTokens: [String]
        public var baselineConceptProbability: Double?
        /// The concept readout's name and its unsteered mean score, when one was given.
        public var readout: String?
        public var baselineReadoutScore: Double?
        public var baselinePerplexity: Double
        public var settings: [Setting]
        public var prompts: [PromptResult]
    }

    /// Runs every prompt unsteered and at every setting.
    /// - Parameters:
    ///   - neutral: text for the typical norm and the KL (each 2+ tokens).
    ///   - conceptTokens: token ids whose probability is the effect (may be empty).
    ///   - readout: a concept score read at the prompts' last position (e.g. a probe), or nil.
    public func run(prompts: [String], neutral: [String], conceptTokens: [Int], readout: ConceptReadout? = nil,
                    progress: ((String) -> Void)? = nil) throws -> Result {
        guard !directions.isEmpty else { throw SteeringError.invalid("no direction given") }
        guard !prompts.isEmpty else { throw SteeringError.invalid("no prompt given") }
        let points = try directions.map { try $0.hookPoint(in: model.config) }
        let pooling = ActivationPooling(model: model, tokenizer: tokenizer)
        let (norms, neutralProjections) = try pooling.neutralStatistics(at: Array(Set(points)), directions: directions, prompts: neutral)
        let ablationTargets = directions.indices.map { mode == .ablate && ablateTo == .neutralMean ? neutralProjections[$0] : 0 }
        let promptIDs = try prompts.map { try tokenizer.encode($0) }
        if let i = promptIDs.firstIndex(where: \.isEmpty) { throw SteeringError.invalid("prompt \(i + 1) is empty") }
        let measures = try SteeringMeasures(model: model, prompts: promptIDs, neutral: neutral.map { try tokenizer.encode($0) },
                                            conceptTokens: conceptTokens, readout: readout)
        // Resolve each setting to one scale per direction.
        var settings: [(label: String, scales: [Double])] = []
        if mode == .ablate {
            settings = [("ablate", directions.map { _ in 0 })]
        } else {
            for s in strengths {
                var scales: [Double] = []
                for (d, p) in zip(directions, points) {
                    if case .targetKL(let target) = s {
                        progress?("calibrating \(d.hook) to KL \(target)")
                        let template = try SteeringIntervention(direction: d, config: model.config, scale: 0)
                        scales.append(try KLCalibration(measures: measures).calibrate(template, typicalNorm: norms[p]!, target: target).scale)
                    } else {
                        scales.append(s.rawScale(vectorNorm: d.norm, typicalNorm: norms[p]!)!)
                    }
                }
                settings.append((s.description, scales))
            }
        }
        func interventions(_ scales: [Double]) throws -> [SteeringIntervention] {
            try directions.indices.map {
                try SteeringIntervention(direction: directions[$0], config: model.config, mode: mode, scale: scales[$0],
                                         positions: positions, ablationTarget: ablationTargets[$0], ablatesFirstPosition: ablatesFirstPosition)
            }
        }
        var settingResults: [Setting] = []
        for s in settings {
            let hooks = SteeringMeasures.measurementHooks(try interventions(s.scales))
            let scores = try measures.promptScores(hooks)
            settingResults.append(Setting(
                label: s.label, scales: s.scales,
                normMultiples: zip(zip(directions, points), s.scales).map { $0.1 * $0.0.0.norm / norms[$0.0.1]! },
                conceptProbability: conceptTokens.isEmpty ? nil : Self.mean(scores.concept),
                readoutScore: readout == nil ? nil : Self.mean(scores.readout),
                klNeutral: try measures.klOnNeutral(hooks), meanPerplexity: 0))
        }
        var results: [PromptResult] = []
        for (i, (prompt, ids)) in zip(prompts, promptIDs).enumerated() {
            progress?("prompt \(i + 1)/\(prompts.count): generating \(1 + settings.count) continuations")
            let base = try generate(ids, hooks: HookSet())
            var steered: [Generation] = []
            for s in settings {
                steered.append(try generate(ids, hooks: SteeringIntervention.hooks(try interventions(s.scales), promptLength: ids.count)))
            }
            results.append(PromptResult(prompt: prompt, unsteered: base, steered: steered))
        }
        for j in settingResults.indices {
            settingResults[j].meanPerplexity = Self.mean(results.map { $0.steered[j].perplexity })
        }
        return Result(directions: directions.map(\.hook), mode: mode.rawValue, positions: positions.rawValue, sampling: sampling,
                      typicalNorms: Dictionary(uniqueKeysWithValues: norms.map { ($0.key.name, $0.value) }),
                      neutralProjections: neutralProjections, ablationTargets: mode == .ablate ? ablationTargets : nil,
                      ablatesFirstPosition: mode == .ablate ? ablatesFirstPosition : nil,
                      conceptTokens: conceptTokens.map { tokenizer.tokenString($0) },
                      baselineConceptProbability: conceptTokens.isEmpty ? nil : measures.baseConceptProbability,
                      readout: readout?.name, baselineReadoutScore: measures.baseReadoutScore,
                      baselinePerplexity: Self.mean(results.map(\.unsteered.perplexity)),
                      settings: settingResults, prompts: results)
    }

    private func generate(_ ids: [Int], hooks: HookSet) throws -> Generation {
        let g = try model.generate(prompt: ids, maxNewTokens: maxNewTokens, sampling: sampling, stopTokens: stopTokens, hooks: hooks)
        let text = tokenizer.decode(g.tokens.filter { !stopTokens.contains($0) })
        return Generation(text: text, tokens: g.tokens,
                          perplexity: try SteeringMeasures.perplexity(model, of: g.tokens, after: ids))
    }

    static func mean(_ x: [Double]) -> Double {
        let f = x.filter(\.isFinite)
        return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count)
    }
}
