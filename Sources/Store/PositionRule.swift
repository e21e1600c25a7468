/// How a prompt's activation rows at one hook become one vector: the one pooling rule that
/// live passes (steering's contrast sets), stored reads (`steer derive --store`) and probes
/// (`ReadPosition.mean`) share.
public enum PositionRule: String, Codable, Sendable, CaseIterable {
    /// Mean over positions 1..<n. Position 0 is left out: in SmolLM2 (and most models) its
    /// residual stream is an attention sink with ~100x the norm of the others, which would
    /// swamp every mean. Needs prompts of 2+ tokens. The default: contrast pairs differ in
    /// words anywhere in the sentence, not only at its end.
    case meanExcludingFirst = "mean-excluding-first"
    /// The last position only (CAA's choice when the contrast sits in the final token).
    case last

    /// One prompt's rows pooled to one vector of `width` values, or nil when the rule finds
    /// no row (no rows, or only position 0 under ``meanExcludingFirst``).
    ///
    /// - Parameters:
    ///   - rows: `positions.count` rows of `width` values, row `i` at absolute position
    ///     `positions[i]`, in any order (a mean sums them in the order given, in Double).
    public func pool<C: RandomAccessCollection>(_ rows: C, positions: [Int], width: Int) -> [Float]?
    where C.Element == Float, C.Index == Int {
        precondition(rows.count == positions.count * width, "pool: \(rows.count) values for \(positions.count) rows of \(width)")
        let base = rows.startIndex
        switch self {
        case .last:
            guard let r = positions.indices.max(by: { positions[$0] < positions[$1] }) else { return nil }
            return Array(rows[(base + r * width)..<(base + (r + 1) * width)])
        case .meanExcludingFirst:
            var sum = [Double](repeating: 0, count: width), count = 0
            for (r, p) in positions.enumerated() where p > 0 {
                let start = base + r * width
                for j in 0..<width { sum[j] += Double(rows[start + j]) }
                count += 1
            }
            guard count > 0 else { return nil }
            return sum.map { Float($0 / Double(count)) }
        }
    }
}
