import Foundation

extension CausalTracing {
    /// The token roles ROME's summary averages over (Meng et al. 2022, figure 2).
    public enum TokenRole: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
        case firstSubject = "first subject token"
        case middleSubject = "middle subject tokens"
        case lastSubject = "last subject token"
        case firstSubsequent = "first subsequent token"
        case further = "further tokens"
        case last = "last token"

        /// The positions of each role in a prompt of `length` tokens with the subject at
        /// `subject`. A one-token subject is both first and last; the last token is only
        /// `last`, so a subject that ends right before it leaves the subsequent roles empty.
        public static func positions(subject: Range<Int>, length: Int) -> [TokenRole: [Int]] {
            let lastToken = length - 1
            var roles: [TokenRole: [Int]] = [:]
            for role in allCases { roles[role] = [] }
            for t in subject where t != lastToken {
                if t == subject.lowerBound { roles[.firstSubject]!.append(t) }
                if t == subject.upperBound - 1 { roles[.lastSubject]!.append(t) }
                if t != subject.lowerBound && t != subject.upperBound - 1 { roles[.middleSubject]!.append(t) }
            }
            for t in subject.upperBound..<max(subject.upperBound, lastToken) {
                roles[t == subject.upperBound ? .firstSubsequent : .further]!.append(t)
            }
            roles[.last] = [lastToken]
            return roles
        }
    }

    /// The average indirect effect of one role per layer over many facts, with a 95%
    /// confidence interval (Student's t over facts; a fact without tokens of the role does
    /// not count for it).
    public struct RoleCurve: Codable, Sendable {
        public var mean: [Double]
        public var lower: [Double]
        public var upper: [Double]
        /// Facts that have the role.
        public var facts: Int
    }

    /// ROME's summary over `results` (one per fact): for each kind and role, the indirect
    /// effect (restored minus corrupted probability) averaged over the role's positions within
    /// a fact, then over facts.
    public static func roleAverages(_ results: [Result]) -> [Kind: [TokenRole: RoleCurve]] {
        var out: [Kind: [TokenRole: RoleCurve]] = [:]
        guard let first = results.first else { return out }
        for kind in first.config.kinds {
            var curves: [TokenRole: RoleCurve] = [:]
            for role in TokenRole.allCases {
                // [fact][layer]
                var perFact: [[Double]] = []
                for r in results {
                    guard let effect = r.indirectEffect(kind) else { continue }
                    let positions = TokenRole.positions(subject: r.subject, length: r.tokens.count)[role]!
                    if positions.isEmpty { continue }
                    perFact.append(effect.map { row in positions.map { row[$0] }.reduce(0, +) / Double(positions.count) })
                }
                guard let layers = perFact.first?.count else { continue }
                var curve = RoleCurve(mean: [], lower: [], upper: [], facts: perFact.count)
                for l in 0..<layers {
                    let values = perFact.map { $0[l] }
                    let (mean, half) = meanAndHalfWidth(values)
                    curve.mean.append(mean)
                    curve.lower.append(mean - half)
                    curve.upper.append(mean + half)
                }
                curves[role] = curve
            }
            out[kind] = curves
        }
        return out
    }

    /// Mean and the half-width of its 95% confidence interval (t distribution; 0 for one value).
    public static func meanAndHalfWidth(_ values: [Double]) -> (Double, Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
        return (mean, studentT975(degreesOfFreedom: values.count - 1) * (variance / n).squareRoot())
    }

    /// The 97.5% quantile of Student's t distribution (two-sided 95% intervals).
    public static func studentT975(degreesOfFreedom df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        if df >= 1 && df <= table.count { return table[df - 1] }
        if df <= 40 { return 2.021 }
        if df <= 60 { return 2.000 }
        if df <= 120 { return 1.980 }
        return 1.960
    }
}
