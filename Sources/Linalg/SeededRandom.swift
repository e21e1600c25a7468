import RealModule

/// A small, fast, seedable random number generator (SplitMix64), so that every sampled or
/// noised result in Loupe can be reproduced from its seed on any platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The generator's state: `SeededRandom(seed: state)` continues this generator's sequence
    /// exactly (how checkpoints save it).
    public private(set) var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1).
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / Double(1 << 53)), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * Double.log(u1)).squareRoot() * Double.cos(2 * .pi * u2))
    }
}
