import Linalg

/// Text generation: a prompt, then one token at a time, with hooks active throughout.
///
/// Hooks see the prompt's positions in the first pass and one new position per step after it
/// (see ``HookContext``). With `useCache: false` every step reruns the whole sequence, so hooks
/// see all positions each time; hooks that select by absolute position give the same tokens
/// either way (tested), which makes the cache-free mode a check on the cached one.
public struct GenerationResult: Sendable {
    /// The prompt's token ids.
    public var prompt: [Int]
    /// The generated ids (the stop token included when one ended the generation).
    public var tokens: [Int]
    /// Why generation stopped.
    public var stopReason: StopReason
    /// Seconds spent on the prompt (prefill) and on the generated tokens.
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    public enum StopReason: String, Sendable { case maxTokens, stopToken, contextFull, cancelled }

    /// Generated tokens per second (after the prompt).
    public var tokensPerSecond: Double { decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0 }
}

extension Transformer {
    /// Generates up to `maxNewTokens` tokens after `prompt`.
    ///
    /// - Parameters:
    ///   - stopTokens: ids that end generation (included in the result).
    ///   - hooks: active at every pass, prompt and generated tokens alike.
    ///   - useCache: keep keys and values between steps (fast); false recomputes everything.
    ///   - onToken: called with each new id; return false to stop.
    public func generate(prompt: [Int], maxNewTokens: Int, sampling: SamplingParameters = .greedy,
                         stopTokens: Set<Int> = [], hooks: HookSet = HookSet(), useCache: Bool = true,
                         onToken: ((Int) -> Bool)? = nil) throws -> GenerationResult {
        var sampler = Sampler(sampling)
        // Generation stops when the context is full, so the cache never needs more than it.
        let wanted = prompt.count.addingReportingOverflow(Swift.max(0, maxNewTokens))
        let cache = KVCache(config: config, reserve: wanted.overflow ? config.contextLength : Swift.min(wanted.partialValue, config.contextLength))
        var result = GenerationResult(prompt: prompt, tokens: [], stopReason: .maxTokens,
                                      prefillSeconds: 0, decodeSeconds: 0)
        var clock = ContinuousClock.now
        var logits = try forward([prompt], caches: useCache ? [cache] : nil, hooks: hooks).logits[0].scalars
        result.prefillSeconds = seconds(since: clock)
        clock = .now
        while result.tokens.count < maxNewTokens {
            let next = sampler.sample(logits)
            result.tokens.append(next)
            if let onToken, !onToken(next) { result.stopReason = .cancelled; break }
            if stopTokens.contains(next) { result.stopReason = .stopToken; break }
            if result.tokens.count == maxNewTokens { break }
            if prompt.count + result.tokens.count >= config.contextLength { result.stopReason = .contextFull; break }
            logits = useCache
                ? try forward([[next]], caches: [cache], hooks: hooks).logits[0].scalars
                : try forward([prompt + result.tokens], hooks: hooks).logits[0].scalars
        }
        result.decodeSeconds = seconds(since: clock)
        return result
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
