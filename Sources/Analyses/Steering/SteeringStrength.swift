/// How strongly a direction is added.
///
/// Everything resolves to a raw scale `s`: the pass adds `s * vector` (the vector as stored).
public enum SteeringStrength: Sendable, Equatable, CustomStringConvertible {
    /// `alpha * vector`, the vector as derived (CAA's multiplier).
    case raw(Double)
    /// `k * typicalNorm * unit(vector)`: the added vector is `k` times as long as a typical
    /// activation row at the hook (mean row norm on neutral text, position 0 excluded).
    case normMultiple(Double)
    /// A named multiple of the activation norm (see ``Named``).
    case named(Named)
    /// The scale whose mean next-token KL divergence from the unsteered model on neutral
    /// text equals this target (nats), found by binary search (``KLCalibration``).
    case targetKL(Double)

    /// Named strengths, as multiples of the typical activation norm at the hook (a CAA
    /// sentiment vector at SmolLM2-135M's layer 15 is 0.067 of that norm). Measured there
    /// with the sentiment direction, mean next-token KL on neutral text: gentle (0.1) about
    /// 0.03-0.07 nats, text barely changed; medium (0.25) 0.16-0.4 nats, tone clearly shifted,
    /// still fluent; strong (0.4) 0.4-2 nats, the direction dominates and fluency suffers.
    public enum Named: String, Sendable, CaseIterable {
        case gentle, medium, strong

        /// The multiple of the typical activation norm.
        public var normMultiple: Double {
            switch self {
            case .gentle: return 0.1
            case .medium: return 0.25
            case .strong: return 0.4
            }
        }
    }

    /// Parses `gentle|medium|strong`, `raw:A` (or a bare number), `norm:K` (or `Kx`), `kl:T`.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Named(rawValue: t) { self = .named(n); return }
        func number(after prefix: String) -> Double? {
            t.hasPrefix(prefix) ? Double(t.dropFirst(prefix.count)) : nil
        }
        if let v = number(after: "raw:") ?? Double(t) { self = .raw(v); return }
        if let v = number(after: "norm:") { self = .normMultiple(v); return }
        if t.hasSuffix("x"), let v = Double(t.dropLast()) { self = .normMultiple(v); return }
        if let v = number(after: "kl:"), v >= 0 { self = .targetKL(v); return }
        return nil
    }

    public var description: String {
        switch self {
        case .raw(let a): return "raw:\(a)"
        case .normMultiple(let k): return "norm:\(k)"
        case .named(let n): return n.rawValue
        case .targetKL(let t): return "kl:\(t)"
        }
    }

    /// The raw scale for a vector of L2 norm `vectorNorm` at a hook whose typical row norm is
    /// `typicalNorm`; nil for ``targetKL(_:)``, which needs a search.
    public func rawScale(vectorNorm: Double, typicalNorm: Double) -> Double? {
        switch self {
        case .raw(let a): return a
        case .normMultiple(let k): return vectorNorm > 0 ? k * typicalNorm / vectorNorm : 0
        case .named(let n): return vectorNorm > 0 ? n.normMultiple * typicalNorm / vectorNorm : 0
        case .targetKL: return nil
        }
    }
}

import Foundation
