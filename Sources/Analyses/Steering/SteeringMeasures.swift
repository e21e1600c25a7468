import Foundation
import Linalg
import Models

/// The numbers a steering run is judged by, against the unsteered model:
/// - the probability of chosen concept tokens at the next position of held-out prompts
///   (the effect),
/// - the mean next-token KL divergence `KL(unsteered || steered)` on neutral text,
///   positions 1... (position 0, the attention sink, left out) (the fluency cost),
/// - the perplexity of a continuation under the unsteered model (``perplexity(of:after:)``),
/// - optionally a ``ConceptReadout`` (a probe's probability) at the last position of each
///   held-out prompt, read in the same pass as the concept tokens, steering active.
///
/// Measurement passes steer every position of their text (the intervention's position
/// rule is for generation).
public struct SteeringMeasures {
    public let model: Transformer
    /// Held-out prompts whose next token is scored.
    public let prompts: [[Int]]
    /// Neutral text for KL (each 2+ tokens).
    public let neutral: [[Int]]
    /// Token ids whose probabilities are summed.
    public let conceptTokens: [Int]
    /// The unsteered model's log-probabilities on `neutral`, per text `[positions][vocab]` (positions 1...).
    private let baseNeutral: [[[Float]]]
    /// The unsteered concept probability.
    public let baseConceptProbability: Double
    /// The unsteered concept probability per prompt.
    public let baseConceptPerPrompt: [Double]
    /// The concept readout scored on the prompts, if any.
    public let readout: ConceptReadout?
    private let readoutPoint: HookPoint?
    /// The unsteered readout score per prompt (empty without a readout).
    public let baseReadoutPerPrompt: [Double]

    public init(model: Transformer, prompts: [[Int]], neutral: [[Int]], conceptTokens: [Int],
                readout: ConceptReadout? = nil) throws {
        guard !neutral.isEmpty else { throw SteeringError.emptyContrastSet("no neutral text to measure KL on") }
        if let short = neutral.first(where: { $0.count < 2 }) {
            throw SteeringError.invalid("neutral texts need 2+ tokens (position 0 is left out); one has \(short.count)")
        }
        self.model = model
        self.prompts = prompts
        self.neutral = neutral
        self.conceptTokens = conceptTokens
        self.readout = readout
        let point = try readout?.hookPoint(in: model.config)
        readoutPoint = point
        baseNeutral = try Self.neutralLogProbs(model, neutral, hooks: HookSet())
        let base = try Self.promptPass(model, prompts, conceptTokens, readout: readout.map { ($0, point!) }, hooks: HookSet())
        baseConceptPerPrompt = base.concept
        baseReadoutPerPrompt = base.readout
        baseConceptProbability = baseConceptPerPrompt.isEmpty ? 0 : baseConceptPerPrompt.reduce(0, +) / Double(baseConceptPerPrompt.count)
    }

    /// The unsteered mean readout score, if there is a readout.
    public var baseReadoutScore: Double? {
        readout == nil || baseReadoutPerPrompt.isEmpty ? nil : baseReadoutPerPrompt.reduce(0, +) / Double(baseReadoutPerPrompt.count)
    }

    /// Hooks steering every position of a measurement pass.
    public static func measurementHooks(_ interventions: [SteeringIntervention]) -> HookSet {
        SteeringIntervention.hooks(interventions.map { var i = $0; i.positions = .all; return i }, promptLength: 0)
    }

    /// Mean `KL(unsteered || steered)` over the neutral texts' positions 1..., in nats.
    public func klOnNeutral(_ hooks: HookSet) throws -> Double {
        let steered = try Self.neutralLogProbs(model, neutral, hooks: hooks)
        var total = 0.0, n = 0
        for (b, s) in zip(baseNeutral, steered) {
            for (p, q) in zip(b, s) { total += Self.kl(p, q); n += 1 }
        }
        return total / Double(max(n, 1))
    }

    /// Per prompt: the summed probability of the concept tokens at the next position.
    public func conceptProbabilities(_ hooks: HookSet) throws -> [Double] {
        try Self.promptPass(model, prompts, conceptTokens, readout: nil, hooks: hooks).concept
    }

    /// Per prompt, from one set of passes with `hooks`: the concept tokens' summed
    /// probability (empty without concept tokens) and the readout's score at the last
    /// position (empty without a readout).
    public func promptScores(_ hooks: HookSet) throws -> (concept: [Double], readout: [Double]) {
        try Self.promptPass(model, prompts, conceptTokens, readout: readout.map { ($0, readoutPoint!) }, hooks: hooks)
    }

    /// Perplexity of `continuation` after `prompt` under the unsteered model:
    /// `exp(mean -log p(token))` over the continuation's tokens.
    public static func perplexity(_ model: Transformer, of continuation: [Int], after prompt: [Int]) throws -> Double {
        guard !continuation.isEmpty else { return .nan }
        let out = try model.forward([prompt + continuation], logits: .all).logits[0]
        let v = out.shape[1]
        var nll = 0.0
        for (i, t) in continuation.enumerated() {
            let row = prompt.count - 1 + i
            let lp = logSoftmax(Array(out.scalars[(row * v)..<((row + 1) * v)]))
            nll -= Double(lp[t])
        }
        return exp(nll / Double(continuation.count))
    }

    /// Concept-token probabilities and readout scores of `prompts`, 16 per pass. The readout's
    /// observe hook is added after `hooks`, so at a steered point it sees the steered rows.
    static func promptPass(_ model: Transformer, _ prompts: [[Int]], _ tokens: [Int],
                           readout: (ConceptReadout, HookPoint)?, hooks: HookSet) throws -> (concept: [Double], readout: [Double]) {
        guard !prompts.isEmpty, !tokens.isEmpty || readout != nil else { return ([], []) }
        var concept: [Double] = [], scores: [Double] = []
        for start in stride(from: 0, to: prompts.count, by: 16) {
            let batch = Array(prompts[start..<min(start + 16, prompts.count)])
            var passHooks = hooks
            let box = LastRowBox(count: batch.count)
            if let (_, point) = readout {
                passHooks.observe(point) { act, ctx in
                    let n = act.shape[0], w = act.count / n
                    box.rows[ctx.sequence] = Array(act.scalars[((n - 1) * w)..<(n * w)])
                }
            }
            let out = try model.forward(batch, hooks: passHooks, logits: tokens.isEmpty ? .none : .last)
            if !tokens.isEmpty {
                for logits in out.logits {
                    let lp = logSoftmax(logits.scalars)
                    concept.append(tokens.reduce(0.0) { $0 + exp(Double(lp[$1])) })
                }
            }
            if let (r, _) = readout {
                scores += r.score(box.rows.flatMap { $0 }, batch.count)
            }
        }
        return (concept, scores)
    }

    static func neutralLogProbs(_ model: Transformer, _ texts: [[Int]], hooks: HookSet) throws -> [[[Float]]] {
        var out: [[[Float]]] = []
        for start in stride(from: 0, to: texts.count, by: 8) {
            let batch = Array(texts[start..<min(start + 8, texts.count)])
            for logits in try model.forward(batch, hooks: hooks, logits: .all).logits {
                let v = logits.shape[1]
                out.append((1..<logits.shape[0]).map { r in logSoftmax(Array(logits.scalars[(r * v)..<((r + 1) * v)])) })
            }
        }
        return out
    }

    /// `KL(p || q)` from log-probabilities, in nats.
    static func kl(_ logP: [Float], _ logQ: [Float]) -> Double {
        var s = 0.0
        for i in 0..<logP.count {
            let lp = Double(logP[i])
            if lp > -60 { s += exp(lp) * (lp - Double(logQ[i])) }
        }
        return max(s, 0)
    }

    static func logSoftmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        var sum = 0.0
        for v in x { sum += exp(Double(v - m)) }
        let lse = Double(m) + log(sum)
        return x.map { Float(Double($0) - lse) }
    }
}
