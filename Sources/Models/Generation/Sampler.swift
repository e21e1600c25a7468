import Linalg
import RealModule

/// How the next token is chosen from the logits.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// 0 means greedy (argmax); otherwise logits are divided by it before the softmax.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (0: no limit).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (1: all).
    public var topP: Float
    /// Seed of the sampling random numbers; the same seed gives the same text.
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    /// Always the most likely token.
    public static let greedy = SamplingParameters()
}

/// Draws tokens from logits by ``SamplingParameters``: temperature, then top-k, then top-p,
/// as Hugging Face's `generate` orders them.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededRandom

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededRandom(seed: parameters.seed)
    }

    /// The next token for `logits` (`[vocabSize]`).
    public mutating func sample(_ logits: [Float]) -> Int {
        if parameters.temperature <= 0 { return Sampler.argmax(logits) }
        let t = parameters.temperature
        var order = Array(logits.indices)
        order.sort { logits[$0] > logits[$1] }
        if parameters.topK > 0 && parameters.topK < order.count { order.removeSubrange(parameters.topK...) }
        let m = logits[order[0]]
        var probs = order.map { Float.exp((logits[$0] - m) / t) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if parameters.topP < 1 {
            var cumulative: Float = 0
            var keep = probs.count
            for (i, p) in probs.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
            probs.removeSubrange(keep...)
            order.removeSubrange(keep...)
        }
        let r = rng.nextUniform() * probs.reduce(0, +)
        var acc: Float = 0
        for (i, p) in probs.enumerated() {
            acc += p
            if r < acc { return order[i] }
        }
        return order[order.count - 1]
    }

    /// Index of the largest value (the first one on ties).
    public static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }
}
