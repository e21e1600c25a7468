import Foundation
import Store

/// Contrast activations read from an activation store instead of live passes (what
/// `loupe steer derive --store S --label FIELD` derives from).
public enum StoreContrast {
    /// Per prompt of capture `id` (nil: the store's only capture): its rows at `hook` pooled
    /// by `rule`; prompts whose `label` field is 1/true are positive, 0/false negative.
    /// - Returns: the contrast set, and how many prompts were skipped (another label value,
    ///   or no row the rule can pool).
    /// - Throws: ``StoreError`` when the store, capture or hook is not there;
    ///   ``SteeringError/emptyContrastSet(_:)`` when either side is empty.
    public static func load(store path: String, capture id: Int64?, hook: String, label: String,
                            rule: PositionRule) throws -> (ContrastActivations, skipped: Int) {
        let db = try ActivationStore(path: path)
        let summary = try db.captureSummary(choosing: id)
        var reader = try ActivationReader(store: db, capture: try db.capture(id: summary.id), hook: hook, batchSize: 4096)
        // Rows of one prompt are consecutive in stored order.
        var prompts: [(rows: [Float], positions: [Int], label: Double?)] = []
        var current = -1
        while let batch = try reader.nextBatch() {
            let labels = batch.label(label)
            let w = batch.rows.shape[1]
            for r in 0..<batch.rows.shape[0] {
                if batch.promptIndices[r] != current {
                    current = batch.promptIndices[r]
                    prompts.append(([], [], labels[r]))
                }
                prompts[prompts.count - 1].rows += batch.rows.scalars[(r * w)..<((r + 1) * w)]
                prompts[prompts.count - 1].positions.append(batch.positions[r])
            }
        }
        var positive: [[Float]] = [], negative: [[Float]] = []
        var skipped = 0
        for p in prompts {
            guard let vector = rule.pool(p.rows, positions: p.positions, width: reader.width) else { skipped += 1; continue }
            switch p.label {
            case 1: positive.append(vector)
            case 0: negative.append(vector)
            default: skipped += 1
            }
        }
        if positive.isEmpty || negative.isEmpty {
            throw SteeringError.emptyContrastSet("capture \(summary.id) in \(path) has \(positive.count) prompt(s) with \(label) = 1 and \(negative.count) with \(label) = 0 at \(hook)")
        }
        return (ContrastActivations(positive: positive, negative: negative), skipped)
    }
}

/// A difference of means read from an activation store (CAA on stored rows): the prompts of
/// a capture split by a 0/1 label field, pooled by `rule` at the derivation's hook.
public struct StoreContrastSource: DirectionSource {
    public var store: String
    /// The capture to read (nil: the store's only capture).
    public var capture: Int64?
    public var label: String
    public var rule: PositionRule
    public var kind: DirectionSourceKind { .meanDifference }

    public init(store: String, capture: Int64? = nil, label: String, rule: PositionRule = .meanExcludingFirst) {
        self.store = store
        self.capture = capture
        self.label = label
        self.rule = rule
    }

    /// The direction; its notes hold the positive, negative and skipped prompt counts.
    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let (acts, skipped) = try StoreContrast.load(store: store, capture: capture, hook: context.hook.name, label: label, rule: rule)
        let source = FixedVectorSource(vector: try acts.meanDifference(), kind: kind,
                                       dataset: URL(fileURLWithPath: store).lastPathComponent,
                                       notes: ["from": "activation store", "label": label, "positive": String(acts.positive.count),
                                               "negative": String(acts.negative.count), "skipped": String(skipped),
                                               "positionRule": rule.rawValue])
        return try source.direction(in: context)
    }
}
