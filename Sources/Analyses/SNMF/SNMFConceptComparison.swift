import Foundation
import Linalg
import Models
import Probes
import Tokenizers

/// How well SNMF features detect and steer the concepts of a ``ConceptSet``, beside a
/// difference of means and a logistic probe read at the same hook (the fitted one).
///
/// Detection (AxBench's measure): each concept's sentences against every other sentence,
/// ROC AUC (``ROCAUC``) of one score per sentence. Every method is chosen on a train half
/// (each concept's and the neutral sentences' even-numbered ones) and scored on the other half:
/// - `snmf`: a feature's code (``SNMFFile/codes(of:rows:iterations:epsilon:)``, Z fixed),
///   **max** over the sentence's tokens (positions 1...); the feature with the best train AUC;
/// - `diff-means`: the projection of the sentence's **mean** row (positions 1...) on the
///   train half's concept mean minus the rest's mean;
/// - `probe`: a logistic probe (``ProbeTrainer``, standardized, C = 1) on the mean rows;
/// - `sae` (when ``sae`` is set: an SAE read at the same hook): a latent's activation, **max**
///   over the sentence's tokens, as for SNMF; the latent with the best train AUC.
///
/// Steering: each method's direction at unit norm (the feature's neuron group z; the mean
/// difference; the probe's raw-space weights; the SAE latent's decoder row) added at every position at the scale whose
/// mean next-token KL on neutral sentences reaches each target (``KLCalibration``, matched
/// KL); the effect is the summed next-token probability of the concept's words at the end of
/// a few generic prompts, minus the unsteered one; reported also per unit of KL reached.
public struct SNMFConceptComparison {
    public enum Method: String, Codable, Sendable, CaseIterable {
        case snmf
        case diffMeans = "diff-means"
        case probe
        case sae
    }

    /// One steering measurement at a target KL.
    public struct Point: Codable, Sendable {
        public var targetKL: Double
        /// The KL reached (NaN when the calibration failed) and the scale that reached it.
        public var kl: Double
        public var scale: Double
        public var conceptProbability: Double
        /// `conceptProbability` minus the unsteered one, and that per nat of KL.
        public var raise: Double
        public var raisePerKL: Double
    }

    /// One concept and method.
    public struct Row: Codable, Sendable {
        public var concept: String
        public var method: Method
        /// The chosen SNMF feature or SAE latent (snmf and sae only).
        public var feature: Int?
        public var trainAUC: Double
        public var testAUC: Double
        /// snmf and sae: the fraction of the feature's top tokens (by code or activation, over
        /// every sentence) that sit in the concept's sentences.
        public var purity: Double?
        public var baseProbability: Double
        public var curve: [Point]
    }

    public struct Result: Codable, Sendable {
        public var hook: String
        public var concepts: [String]
        public var targets: [Double]
        public var prompts: [String]
        /// Words of each concept that are single tokens (the others are left out).
        public var words: [String: [String]]
        public var rows: [Row]
        /// Over every SNMF feature: the share of its top tokens from its most common label
        /// (a concept or neutral).
        public var meanPurity: Double
    }

    public let model: Transformer
    public let tokenizer: Tokenizer
    public let file: SNMFFile
    public let concepts: ConceptSet
    /// An SAE read at the fitted hook (its `d_in` the hook's width), compared as method `sae`.
    public var sae: (any SparseAutoencoder)?
    /// Target KLs (nats) of the steering curve.
    public var targets: [Double] = [0.05, 0.1, 0.2]
    /// Prompts at whose end the concept words' probability is read.
    public var prompts = ["I think that", "Let me tell you about", "The most important thing is"]
    /// Neutral sentences the KL is measured on (the first this many).
    public var neutralCount = 6
    /// Bisection steps of each calibration.
    public var calibrationSteps = 8
    /// Tokens per feature for purity.
    public var topTokens = 10
    /// Multiplicative updates of the codes of the concept sentences' tokens.
    public var codeIterations = 100

    public init(model: Transformer, tokenizer: Tokenizer, file: SNMFFile, concepts: ConceptSet) {
        self.model = model
        self.tokenizer = tokenizer
        self.file = file
        self.concepts = concepts
    }

    /// The fitted hook, checked against the model.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` when the fit read no hook of this model.
    public func hookPoint() throws -> HookPoint {
        guard let point = file.hook.flatMap(HookPoint.init(name:)), (try? model.config.hookPoint(named: point.name)) != nil else {
            throw SNMFError.invalidSetting("the fit read \(file.hook ?? "an --input matrix"), not a hook of \(model.config.name)")
        }
        return point
    }

    /// Runs detection and steering for every concept and method.
    public func run(progress: ((String) -> Void)? = nil) throws -> Result {
        let point = try hookPoint()
        let sentences = concepts.sentences
        let rows = try SNMFConceptActivations(model: model, tokenizer: tokenizer, point: point, texts: sentences.map(\.text))
        guard rows.width == file.neurons else {
            throw SNMFError.invalidSetting("\(point.name) rows have \(rows.width) values; the fit's features have \(file.neurons)")
        }
        let k = file.features.count, t = rows.tokenCount
        let codes = try file.codes(of: rows.all, rows: t, iterations: codeIterations)  // [k, t]
        // Per sentence and feature: the max code over its tokens.
        let maxCode = Self.sentenceMax(rows.ranges, columns: k) { f, i in codes[f * t + i] }
        let tokenSentence = rows.ranges.enumerated().flatMap { s, r in r.map { _ in s } }
        let top = (0..<k).map { f in Self.topSentences(tokenSentence, count: topTokens) { codes[f * t + $0] } }
        // The SAE's latents of the same rows, [t, latents], and their max per sentence.
        let saeLatents = try sae.map { sae -> (values: [Float], count: Int) in
            guard sae.width == rows.width else {
                throw SNMFError.invalidSetting("the SAE reads \(sae.width) values per row; \(point.name) rows have \(rows.width)")
            }
            progress?("encoding \(t) rows with the SAE (\(sae.latents) latents)")
            return (try sae.encode(rows: Tensor(shape: [t, rows.width], scalars: rows.all), what: "\(point.name) rows").scalars, sae.latents)
        }
        let saeMax = saeLatents.map { a in Self.sentenceMax(rows.ranges, columns: a.count) { f, i in a.values[i * a.count + f] } }
        let meanPurity = top.map { list -> Double in
            var counts: [String: Int] = [:]
            for s in list { counts[sentences[s].concept ?? "neutral", default: 0] += 1 }
            return Double(counts.values.max() ?? 0) / Double(max(list.count, 1))
        }.reduce(0, +) / Double(max(k, 1))
        // Even-numbered sentences of each label train, odd ones test.
        var seen: [String: Int] = [:]
        let isTrain = sentences.map { s -> Bool in
            let label = s.concept ?? "neutral"
            defer { seen[label, default: 0] += 1 }
            return seen[label, default: 0] % 2 == 0
        }
        let pooled = rows.pooled
        let neutralIDs = try concepts.neutral.prefix(neutralCount).map { try tokenizer.encode($0) }
        let typical = try ActivationPooling(model: model, tokenizer: tokenizer).typicalNorm(at: [point], prompts: Array(concepts.neutral.prefix(neutralCount)))[point]!
        var words: [String: [String]] = [:]
        var out: [Row] = []
        for concept in concepts.concepts {
            progress?("concept \(concept)")
            let positive = sentences.map { $0.concept == concept }
            func aucs(_ scores: [Double]) -> (Double, Double) {
                let train = scores.indices.filter { isTrain[$0] }, test = scores.indices.filter { !isTrain[$0] }
                return (ROCAUC.of(train.map { scores[$0] }, positive: train.map { positive[$0] }) ?? .nan,
                        ROCAUC.of(test.map { scores[$0] }, positive: test.map { positive[$0] }) ?? .nan)
            }
            func purity(_ list: [Int]) -> Double {
                Double(list.filter { sentences[$0].concept == concept }.count) / Double(max(list.count, 1))
            }
            // SNMF: the feature with the best train AUC.
            let (best, bestAUC) = Self.bestColumn(columns: k) { f in aucs(maxCode.map { $0[f] }) }
            // Difference of means on the train half.
            let d = rows.width
            var difference = [Double](repeating: 0, count: d)
            let trainPositive = sentences.indices.filter { isTrain[$0] && positive[$0] }, trainRest = sentences.indices.filter { isTrain[$0] && !positive[$0] }
            for s in trainPositive { for j in 0..<d { difference[j] += Double(pooled[s][j]) / Double(trainPositive.count) } }
            for s in trainRest { for j in 0..<d { difference[j] -= Double(pooled[s][j]) / Double(trainRest.count) } }
            let projections = pooled.map { row in zip(row, difference).reduce(0.0) { $0 + Double($1.0) * $1.1 } }
            // A logistic probe on the train half.
            let train = sentences.indices.filter { isTrain[$0] }
            let matrix = FeatureMatrix(x: train.flatMap { pooled[$0] }, rows: train.count, width: d,
                                       labels: train.map { positive[$0] ? 1 : 0 }, classes: ["other", concept])
            let probe = try ProbeTrainer.fit(matrix, ProbeOptions()).probe
            let probeScores = probe.scores(pooled.flatMap { $0 }, rows: pooled.count).map(Double.init)
            var directions: [(Method, [Double], (Double, Double), Int?, Double?)] = [
                (.snmf, file.features[best].map(Double.init), bestAUC, best, purity(top[best])),
                (.diffMeans, difference, aucs(projections), nil, nil),
                (.probe, probe.weights[0].map(Double.init), aucs(probeScores), nil, nil),
            ]
            // SAE: the latent with the best train AUC, its decoder row as the direction.
            if let sae, let saeMax, let a = saeLatents {
                let (latent, auc) = Self.bestColumn(columns: a.count) { f in aucs(saeMax.map { $0[f] }) }
                let top = Self.topSentences(tokenSentence, count: topTokens) { a.values[$0 * a.count + latent] }
                let row = sae.parameters.wDec[(latent * sae.width)..<((latent + 1) * sae.width)]
                directions.append((.sae, row.map(Double.init), auc, latent, purity(top)))
            }
            // Steering at matched KL.
            let ids = (concepts.words[concept] ?? []).compactMap { w in tokenizer.id(of: w).map { (w, $0) } }
            guard !ids.isEmpty else { throw SNMFError.invalidSetting("no word of concept \(concept) is a single token") }
            words[concept] = ids.map(\.0)
            let measures = try SteeringMeasures(model: model, prompts: prompts.map { try tokenizer.encode($0) }, neutral: neutralIDs,
                                                conceptTokens: ids.map(\.1))
            var calibration = KLCalibration(measures: measures)
            calibration.steps = calibrationSteps
            for (method, vector, auc, feature, purity) in directions {
                let norm = vector.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 0 else { throw SNMFError.invalidSetting("the \(method.rawValue) direction of \(concept) is zero") }
                let unit = vector.map { Float($0 / norm) }
                let direction = SteeringDirection(vector: unit, hook: point.name, provenance: .init(source: method.rawValue, norm: 1))
                let template = try SteeringIntervention(direction: direction, config: model.config, scale: 0)
                var curve: [Point] = []
                for target in targets {
                    guard let reached = try? calibration.calibrate(template, typicalNorm: typical, target: target) else {
                        curve.append(Point(targetKL: target, kl: .nan, scale: .nan, conceptProbability: .nan, raise: .nan, raisePerKL: .nan))
                        continue
                    }
                    let (scale, kl) = (reached.scale, reached.kl)
                    var steered = template
                    steered.scale = scale
                    let p = try measures.conceptProbabilities(SteeringMeasures.measurementHooks([steered]))
                    let mean = p.reduce(0, +) / Double(max(p.count, 1)), raise = mean - measures.baseConceptProbability
                    curve.append(Point(targetKL: target, kl: kl, scale: scale, conceptProbability: mean, raise: raise, raisePerKL: raise / kl))
                }
                out.append(Row(concept: concept, method: method, feature: feature, trainAUC: auc.0, testAUC: auc.1, purity: purity,
                               baseProbability: measures.baseConceptProbability, curve: curve))
            }
        }
        return Result(hook: point.name, concepts: concepts.concepts, targets: targets, prompts: prompts, words: words, rows: out,
                      meanPurity: meanPurity)
    }
}

extension SNMFConceptComparison {
    /// An SAE folder for the comparison: an SAE (not a transcoder) trained at `hook`.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` naming both hooks when they differ, or when
    ///   the folder holds a transcoder; the folder's own errors when it does not load.
    public static func loadSAE(_ directory: String, hook: String?) throws -> any SparseAutoencoder {
        let (sae, metadata) = try SAEFolder.load(directory)
        guard !sae.isTranscoder else {
            throw SNMFError.invalidSetting("\(directory) holds a transcoder (\(metadata.hookName) -> \(metadata.hookNameOut ?? "?")); "
                                           + "the comparison needs an SAE of the fit's hook")
        }
        guard metadata.hookName == hook else {
            throw SNMFError.invalidSetting("the SAE in \(directory) reads \(metadata.hookName); the fit read \(hook ?? "an --input matrix")")
        }
        return sae
    }

    /// Per sentence (a range of token rows), the max over its tokens of each of `columns` scores.
    static func sentenceMax(_ ranges: [Range<Int>], columns: Int, _ score: (_ column: Int, _ token: Int) -> Float) -> [[Double]] {
        ranges.map { range in (0..<columns).map { c in range.map { Double(score(c, $0)) }.max() ?? 0 } }
    }

    /// The sentences of the `count` tokens with the largest scores.
    static func topSentences(_ tokenSentence: [Int], count: Int, _ score: (Int) -> Float) -> [Int] {
        tokenSentence.indices.sorted { score($0) > score($1) }.prefix(count).map { tokenSentence[$0] }
    }

    /// The column with the best train AUC (the first on ties) and its (train, test) AUCs.
    static func bestColumn(columns: Int, _ aucs: (Int) -> (Double, Double)) -> (Int, (Double, Double)) {
        var best = (0, aucs(0))
        for c in 1..<max(columns, 1) {
            let a = aucs(c)
            if a.0 > best.1.0 { best = (c, a) }
        }
        return best
    }
}

/// The rows of a hook for each of a list of texts, positions 1... (position 0 left out).
struct SNMFConceptActivations {
    /// All rows, `[tokenCount, width]`, text after text.
    var all: [Float] = []
    /// Per text, its rows' indices in ``all``.
    var ranges: [Range<Int>] = []
    var width = 0
    var tokenCount: Int { ranges.last?.upperBound ?? 0 }
    /// Per text, the mean of its rows.
    var pooled: [[Float]] {
        ranges.map { r in
            (0..<width).map { j in r.reduce(Float(0)) { $0 + all[$1 * width + j] } / Float(max(r.count, 1)) }
        }
    }

    init(model: Transformer, tokenizer: Tokenizer, point: HookPoint, texts: [String], batchSize: Int = 16) throws {
        let ids = try texts.map { try tokenizer.encode($0) }
        if let i = ids.firstIndex(where: { $0.count < 2 }) {
            throw SNMFError.invalidSetting("sentence \(i + 1) has \(ids[i].count) token(s); 2 or more are needed (position 0 is left out)")
        }
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            let box = SNMFRowBox(count: batch.count)
            var hooks = HookSet()
            hooks.observe(point) { act, ctx in box.rows[ctx.sequence] = act }
            _ = try model.forward(batch, hooks: hooks, logits: .none)
            for act in box.rows {
                guard let act else { throw SNMFError.invalidSetting("\(point.name) was not reached in the forward pass") }
                let w = act.count / act.shape[0]
                width = w
                let first = all.count / w
                all += act.scalars[w...]
                ranges.append(first..<(all.count / w))
            }
            start += batch.count
        }
    }
}

private final class SNMFRowBox: @unchecked Sendable {
    var rows: [Tensor?]
    init(count: Int) { rows = Array(repeating: nil, count: count) }
}
