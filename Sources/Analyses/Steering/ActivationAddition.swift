import Models
import Tokenizers

/// ActAdd as Turner et al. (2023, "Steering Language Models With Activation Engineering") define
/// it: run the two prompts of a pair ("Love" / "Hate"), take the residual stream entering block L
/// (`blocks.L.hook_resid_pre`) position by position, the shorter prompt padded on the right with
/// the space token as the paper's code does, and add `coefficient x (h+ - h-)` to the first
/// positions of the user's prompt at that layer. Later positions and generated tokens are not
/// edited; they see the edit through attention (the KV cache holds it).
///
/// ``PooledActAddSource`` (`loupe steer derive --positive P --negative N`) is a different method under its
/// own name: one pooled vector added at every selected position.
public struct ActivationAddition: Sendable, Codable, Equatable {
    /// Token ids of the two prompts after padding (equal lengths).
    public var positive: [Int], negative: [Int]
    /// The padding token (the tokenizer's encoding of a space).
    public var padToken: Int
    /// The block whose input (`hook_resid_pre`) is edited.
    public var layer: Int
    public var coefficient: Double
    /// `[positions][dModel]`: h+ - h- per position, before the coefficient.
    public var difference: [[Float]]

    /// The hook point edited.
    public var point: HookPoint { .residPre(layer) }

    /// The activation difference of two prompts given as token ids.
    ///
    /// - Throws: ``SteeringError/invalid(_:)`` for an empty prompt or a layer the model lacks.
    public init(model: Transformer, positive: [Int], negative: [Int], padToken: Int, layer: Int, coefficient: Double) throws {
        guard !positive.isEmpty, !negative.isEmpty else {
            throw SteeringError.invalid("ActAdd needs two non-empty prompts (got \(positive.count) and \(negative.count) tokens)")
        }
        guard (0..<model.config.nLayers).contains(layer) else {
            throw SteeringError.invalid("ActAdd layer \(layer) is outside the model's 0...\(model.config.nLayers - 1)")
        }
        let k = max(positive.count, negative.count)
        let pos = positive + Array(repeating: padToken, count: k - positive.count)
        let neg = negative + Array(repeating: padToken, count: k - negative.count)
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture([.residPre(layer)], into: cache)
        try model.forward([pos, neg], hooks: hooks, through: layer)
        let hp = cache.tensor(.residPre(layer), sequence: 0)!, hn = cache.tensor(.residPre(layer), sequence: 1)!
        self.positive = pos
        self.negative = neg
        self.padToken = padToken
        self.layer = layer
        self.coefficient = coefficient
        self.difference = (0..<k).map { t in zip(hp.row(t), hn.row(t)).map { $0 - $1 } }
    }

    /// The same from text: both prompts encoded without special tokens, padded with the
    /// last token of `" "`'s encoding.
    public init(model: Transformer, tokenizer: Tokenizer, positive: String, negative: String,
                layer: Int, coefficient: Double) throws {
        guard let space = try tokenizer.encode(" ").last else { throw SteeringError.invalid("the tokenizer encodes \" \" to nothing") }
        try self.init(model: model, positive: try tokenizer.encode(positive), negative: try tokenizer.encode(negative),
                      padToken: space, layer: layer, coefficient: coefficient)
    }

    /// Positions edited: the first `count` of the prompt.
    public var count: Int { difference.count }

    /// Norm of each edited row, `coefficient x |h+ - h-|`.
    public var rowNorms: [Double] {
        difference.map { row in abs(coefficient) * Double(row.reduce(0) { $0 + $1 * $1 }).squareRoot() }
    }

    /// Adds the edit to `hooks` for a prompt of `promptLength` tokens.
    ///
    /// - Throws: ``SteeringError/invalid(_:)`` when the prompt is shorter than the edit (the
    ///   paper's code fails there too; pad the prompt or shorten the pair).
    public func install(into hooks: inout HookSet, promptLength: Int) throws {
        guard promptLength >= count else {
            throw SteeringError.invalid("the prompt has \(promptLength) token(s) but the ActAdd pair has \(count): ActAdd edits the prompt's first \(count) positions")
        }
        let rows = difference, c = Float(coefficient)
        hooks.modify(point) { act, ctx in
            let w = act.shape[1]
            for (i, p) in ctx.positions.enumerated() where p < rows.count {
                for j in 0..<w { act.scalars[i * w + j] += c * rows[p][j] }
            }
        }
    }
}

extension ActivationAddition {
    /// One prompt generated without and with the edit, same sampling.
    public struct Comparison: Codable, Sendable {
        public var prompt: String
        public var promptTokens: Int
        public var unsteered: String
        public var steered: String
        public var unsteeredTokens: [Int]
        public var steeredTokens: [Int]
    }

    /// Generates `prompt` without and with the edit (greedy unless `sampling` says otherwise).
    public func compare(model: Transformer, tokenizer: Tokenizer, prompt: String, maxNewTokens: Int,
                        sampling: SamplingParameters = .greedy, stopTokens: Set<Int> = []) throws -> Comparison {
        let ids = try tokenizer.encode(prompt)
        var hooks = HookSet()
        try install(into: &hooks, promptLength: ids.count)
        let plain = try model.generate(prompt: ids, maxNewTokens: maxNewTokens, sampling: sampling, stopTokens: stopTokens)
        let steered = try model.generate(prompt: ids, maxNewTokens: maxNewTokens, sampling: sampling, stopTokens: stopTokens, hooks: hooks)
        return Comparison(prompt: prompt, promptTokens: ids.count, unsteered: tokenizer.decode(plain.tokens),
                          steered: tokenizer.decode(steered.tokens), unsteeredTokens: plain.tokens, steeredTokens: steered.tokens)
    }
}
