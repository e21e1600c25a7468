import Foundation

/// The logits a graph explains (circuit-tracer's `AttributionTargets._from_salient`): the most
/// probable next tokens at the last position, fewest whose probabilities sum to at least
/// `probability`, at most `maxCount`. Each is read through its demeaned unembedding row
/// (the row minus the mean row), so a feature that raises every logit alike gets no credit.
public struct LogitTargets: Sendable, Equatable {
    public let tokens: [Int]
    public let probabilities: [Float]

    /// Selects targets from the last position's logits `[vocab]`.
    /// - Throws: ``GraphError/badOption(_:)`` for a count below 1 or a probability outside (0, 1].
    public init(logits: [Float], maxCount: Int, probability: Float) throws {
        guard maxCount >= 1 else { throw GraphError.badOption("max logits \(maxCount): must be at least 1") }
        guard probability > 0, probability <= 1 else { throw GraphError.badOption("logit probability \(probability): must be in (0, 1]") }
        let top = logits.max() ?? 0
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v - top)) }
        let probs = logits.map { Float(Foundation.exp(Double($0 - top)) / sum) }
        let order = probs.indices.sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }.prefix(min(maxCount, probs.count))
        var cumulative: Float = 0, count = order.count
        for (i, t) in order.enumerated() {
            cumulative += probs[t]
            if cumulative >= probability { count = i + 1; break }
        }
        tokens = Array(order.prefix(count))
        probabilities = tokens.map { probs[$0] }
    }
}
