import Foundation
import Models

/// A concept score read from the model's activations: a function of one hook's row at the
/// last position of each prompt that returns a probability, such as a saved linear probe's
/// probability of its positive class.
///
/// `Analyses` does not import `Probes`: the CLI wraps a probe file in a readout
/// (`LoupeCLI/Commands/Steer+ProbeReadout.swift`). ``SteeringMeasures`` reads it with the
/// steering active, so it measures the steered model's internal concept.
public struct ConceptReadout: Sendable {
    /// What the score is, for reports, e.g. `probe p(positive)`.
    public var name: String
    /// The hook point read (TransformerLens name).
    public var hook: String
    /// The row width the score function takes.
    public var width: Int
    /// One score per row of `x` (`rows` rows of ``width`` values, row-major).
    public var score: @Sendable (_ x: [Float], _ rows: Int) -> [Double]

    public init(name: String, hook: String, width: Int, score: @escaping @Sendable (_ x: [Float], _ rows: Int) -> [Double]) {
        self.name = name
        self.hook = hook
        self.width = width
        self.score = score
    }

    /// Checks the readout against a model: the hook exists and its flattened row is ``width`` wide.
    /// - Returns: the hook point.
    public func hookPoint(in config: TransformerConfig) throws -> HookPoint {
        let point = try config.hookPoint(named: hook)
        if case .pattern = point { throw SteeringError.unsupportedHook(hook) }
        let rowWidth = config.shape(of: point, positions: 1).dropFirst().reduce(1, *)
        guard rowWidth == width else {
            throw SteeringError.invalid("the concept readout '\(name)' reads \(width) values at \(hook); this model's rows there are \(rowWidth) wide")
        }
        return point
    }
}

/// Last rows written by observe hooks during one batch (hooks are closures).
final class LastRowBox: @unchecked Sendable {
    var rows: [[Float]]
    init(count: Int) { rows = Array(repeating: [], count: count) }
}
