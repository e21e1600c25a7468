import Formats
import Foundation
import Models
import Store
import Tokenizers

/// What a direction is derived on: the model, its tokenizer and the hook point.
public struct DerivationContext {
    public let model: Transformer
    public let tokenizer: Tokenizer
    public let hook: HookPoint
    /// The model's name, recorded in provenance.
    public let modelName: String

    public init(model: Transformer, tokenizer: Tokenizer, hook: HookPoint, modelName: String) {
        self.model = model
        self.tokenizer = tokenizer
        self.hook = hook
        self.modelName = modelName
    }
}

/// Anything that yields a ``SteeringDirection`` for a hook point.
///
/// Callers (the CLI, sweeps, reports) only see this protocol, so new sources plug in without
/// changing them. Sources here: ``MeanDifferenceSource`` (CAA), ``PrincipalComponentSource``
/// (repeng's PCA of paired differences), ``PooledActAddSource`` (one pair of prompts, pooled),
/// ``NPYVectorSource`` (a raw `.npy`) and ``FixedVectorSource`` (any vector in memory).
///
/// Saved probes, store captures, SAE latents and SNMF features are directions too
/// (``ProbeDirectionSource``, ``StoreContrastSource``, ``SAEFeatureSource``, ``SNMFFeatureSource``).
public protocol DirectionSource {
    /// The kind recorded in provenance.
    var kind: DirectionSourceKind { get }
    /// Derives the direction at `context.hook`.
    func direction(in context: DerivationContext) throws -> SteeringDirection
}

/// Source kinds, as written in a direction file's provenance.
public enum DirectionSourceKind: String, Codable, Sendable, CaseIterable {
    /// Difference of means over contrastive pairs (CAA, Rimsky et al. 2024).
    case meanDifference = "mean-difference"
    /// First principal component of paired differences (repeng-style).
    case principalComponent = "pca-difference"
    /// Pooled ActAdd: one pair's pooled activation difference, added at every selected
    /// position (not Turner et al.'s position-by-position ActAdd: ``ActivationAddition``).
    case pooledActAdd = "actadd-pooled"
    /// A raw vector from a `.npy` file.
    case npy
    /// A saved linear probe's weight vector (raw activation space).
    case probe
    /// An SAE latent's decoder row.
    case saeFeature = "sae-feature"
    /// An SNMF feature: its unit neuron group z at `mlp.hook_post`, or its residual image.
    case snmfFeature = "snmf-feature"
    /// A vector given in code.
    case vector
}

/// Positive and negative pooled activations of a contrast set at one hook.
public struct ContrastActivations: Sendable {
    public var positive: [[Float]]
    public var negative: [[Float]]

    public init(positive: [[Float]], negative: [[Float]]) {
        self.positive = positive
        self.negative = negative
    }

    /// Pooled activations of every pair's two prompts at `points`, from live forward passes.
    public static func collect(_ pairs: [ContrastPair], at points: [HookPoint], rule: PositionRule,
                               pooling: ActivationPooling) throws -> [HookPoint: ContrastActivations] {
        guard !pairs.isEmpty else { throw SteeringError.emptyContrastSet("no contrastive pairs given") }
        let acts = try pooling.pooled(pairs.map(\.positive) + pairs.map(\.negative), at: points, rule: rule)
        return acts.mapValues { rows in
            ContrastActivations(positive: Array(rows[..<pairs.count]), negative: Array(rows[pairs.count...]))
        }
    }

    /// Mean of positives minus mean of negatives (CAA's vector).
    public func meanDifference() throws -> [Float] {
        guard !positive.isEmpty, !negative.isEmpty else {
            throw SteeringError.emptyContrastSet("\(positive.count) positive and \(negative.count) negative activations")
        }
        let p = SteeringMath.mean(positive), n = SteeringMath.mean(negative)
        return zip(p, n).map { Float($0 - $1) }
    }

    /// How many pairs project higher on `vector` for the positive prompt than the negative.
    public func separatedPairs(by vector: [Float]) -> Int {
        var count = 0
        for (p, n) in zip(positive, negative) where SteeringMath.dot(p, vector) > SteeringMath.dot(n, vector) { count += 1 }
        return count
    }

    /// First principal component of the paired differences `positive[i] - negative[i]`,
    /// signed so that positives project above negatives on more pairs than not (ties: by the
    /// mean projection), and scaled to the mean absolute projection of the differences, so
    /// its length is comparable with ``meanDifference()``.
    ///
    /// `centered: false` (the default) takes the PC of the raw differences, where the mean
    /// difference is most of the signal; `centered: true` subtracts their mean first, as
    /// repeng's `pca_diff` does through sklearn's PCA.
    public func principalComponent(centered: Bool = false) throws -> (vector: [Float], explained: Double) {
        guard !positive.isEmpty, positive.count == negative.count else {
            throw SteeringError.emptyContrastSet("\(positive.count) positive and \(negative.count) negative activations (need equal, non-zero counts)")
        }
        let diffs = zip(positive, negative).map { p, n in zip(p, n).map { $0 - $1 } }
        let start = SteeringMath.mean(diffs)
        let (pc, explained) = SteeringMath.firstPrincipalComponent(diffs, centered: centered, start: centered ? [] : start)
        let unit = pc.map(Float.init)
        var votes = 0, total = 0.0
        for (p, n) in zip(positive, negative) {
            let d = SteeringMath.dot(p, unit) - SteeringMath.dot(n, unit)
            votes += d > 0 ? 1 : d < 0 ? -1 : 0
            total += d
        }
        let sign: Float = votes > 0 || (votes == 0 && total >= 0) ? 1 : -1
        let scale = diffs.reduce(0.0) { $0 + abs(SteeringMath.dot($1, unit)) } / Double(diffs.count)
        return (unit.map { $0 * sign * Float(scale) }, explained)
    }
}

/// CAA: mean activation over the positive prompts minus the mean over the negative ones.
public struct MeanDifferenceSource: DirectionSource {
    public var pairs: [ContrastPair]
    public var rule: PositionRule
    /// Name of the dataset, for provenance.
    public var dataset: String?
    public var kind: DirectionSourceKind { .meanDifference }

    public init(pairs: [ContrastPair], rule: PositionRule = .meanExcludingFirst, dataset: String? = nil) {
        self.pairs = pairs
        self.rule = rule
        self.dataset = dataset
    }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let acts = try ContrastActivations.collect(pairs, at: [context.hook], rule: rule,
                                                   pooling: ActivationPooling(model: context.model, tokenizer: context.tokenizer))
        let v = try acts[context.hook]!.meanDifference()
        return SteeringDirection(vector: v, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: dataset, pairs: pairs.count,
            layer: context.hook.layer, norm: SteeringMath.norm(v), positionRule: rule.rawValue))
    }
}

/// repeng-style: the first principal component of the paired differences, signed toward
/// the positive set (see ``ContrastActivations/principalComponent(centered:)``).
public struct PrincipalComponentSource: DirectionSource {
    public var pairs: [ContrastPair]
    public var rule: PositionRule
    public var centered: Bool
    public var dataset: String?
    public var kind: DirectionSourceKind { .principalComponent }

    public init(pairs: [ContrastPair], rule: PositionRule = .meanExcludingFirst, centered: Bool = false, dataset: String? = nil) {
        self.pairs = pairs
        self.rule = rule
        self.centered = centered
        self.dataset = dataset
    }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let acts = try ContrastActivations.collect(pairs, at: [context.hook], rule: rule,
                                                   pooling: ActivationPooling(model: context.model, tokenizer: context.tokenizer))
        let (v, explained) = try acts[context.hook]!.principalComponent(centered: centered)
        return SteeringDirection(vector: v, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: dataset, pairs: pairs.count,
            layer: context.hook.layer, norm: SteeringMath.norm(v), positionRule: rule.rawValue,
            notes: ["explained": String(format: "%.4f", explained), "centered": String(centered),
                    "sign": "positives project above negatives on most pairs",
                    "scale": "mean |projection| of the paired differences"]))
    }
}

/// Pooled ActAdd: the activation difference of one prompt pair such as "Love" / "Hate", each
/// prompt pooled to one vector (``PositionRule``; `last` by default, so one-word prompts work),
/// a direction added at every selected position like any other. Turner et al. (2023)'s ActAdd
/// keeps the positions and edits the prompt's first ones instead: ``ActivationAddition``.
public struct PooledActAddSource: DirectionSource {
    public var positive: String
    public var negative: String
    public var rule: PositionRule
    public var kind: DirectionSourceKind { .pooledActAdd }

    public init(positive: String, negative: String, rule: PositionRule = .last) {
        self.positive = positive
        self.negative = negative
        self.rule = rule
    }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let pair = ContrastPair(positive: positive, negative: negative)
        let acts = try ContrastActivations.collect([pair], at: [context.hook], rule: rule,
                                                   pooling: ActivationPooling(model: context.model, tokenizer: context.tokenizer))
        let v = try acts[context.hook]!.meanDifference()
        return SteeringDirection(vector: v, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, pairs: 1, positivePrompt: positive,
            negativePrompt: negative, layer: context.hook.layer, norm: SteeringMath.norm(v), positionRule: rule.rawValue))
    }
}

/// A raw vector from a NumPy `.npy` file (shape `[width]` or `[1, width]`, float32/64/16).
public struct NPYVectorSource: DirectionSource {
    public var path: String
    public var kind: DirectionSourceKind { .npy }

    public init(path: String) { self.path = path }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let t = try NumPyArray.read(path: path)
        guard t.rank == 1 || (t.rank == 2 && t.shape[0] == 1) else {
            throw SteeringError.invalid("\(path): shape \(t.shape), expected one vector [width] or [1, width]")
        }
        return try FixedVectorSource(vector: t.scalars, kind: .npy, dataset: path).direction(in: context)
    }
}

/// A vector given in code, at the derivation's hook.
public struct FixedVectorSource: DirectionSource {
    public var vector: [Float]
    public var kind: DirectionSourceKind
    public var dataset: String?
    public var notes: [String: String]

    public init(vector: [Float], kind: DirectionSourceKind = .vector, dataset: String? = nil, notes: [String: String] = [:]) {
        self.vector = vector
        self.kind = kind
        self.dataset = dataset
        self.notes = notes
    }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let d = SteeringDirection(vector: vector, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: dataset, layer: context.hook.layer,
            norm: SteeringMath.norm(vector), notes: notes))
        _ = try d.hookPoint(in: context.model.config)
        return d
    }
}
