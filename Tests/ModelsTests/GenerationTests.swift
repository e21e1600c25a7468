import Linalg
import LoupeTestSupport
import Models
import Testing

@Suite struct GenerationTests {
    @Test(arguments: [TinyModels.llamaConfig(), TinyModels.gpt2Config()])
    func steeredGenerationIsTheSameWithAndWithoutTheCache(config: TransformerConfig) throws {
        let model = try TinyModels.model(config)
        var hooks = HookSet()
        hooks.add((0..<32).map { Float($0 % 5) * 0.3 - 0.6 }, at: .residPost(0), positions: .from(2))
        hooks.zeroAblate(.z(1), heads: .heads([1]))
        for sampling in [SamplingParameters.greedy, SamplingParameters(temperature: 0.8, topK: 20, topP: 0.9, seed: 3)] {
            let cached = try model.generate(prompt: [1, 2, 3], maxNewTokens: 20, sampling: sampling, hooks: hooks)
            let recomputed = try model.generate(prompt: [1, 2, 3], maxNewTokens: 20, sampling: sampling,
                                                hooks: hooks, useCache: false)
            #expect(cached.tokens == recomputed.tokens)
            #expect(cached.tokens.count == 20)
            let unsteered = try model.generate(prompt: [1, 2, 3], maxNewTokens: 20, sampling: sampling)
            #expect(unsteered.tokens != cached.tokens, "the steering hook should matter")
        }
    }

    @Test func stopTokensAndContextEndGeneration() throws {
        let model = try TinyModels.model(TinyModels.llamaConfig(context: 10))
        let free = try model.generate(prompt: [1, 2], maxNewTokens: 5)
        let stop = free.tokens[2]
        let stopped = try model.generate(prompt: [1, 2], maxNewTokens: 5, stopTokens: [stop])
        #expect(stopped.stopReason == .stopToken)
        #expect(stopped.tokens == Array(free.tokens[0...free.tokens.firstIndex(of: stop)!]))
        let full = try model.generate(prompt: [1, 2], maxNewTokens: 50)
        #expect(full.stopReason == .contextFull)
        #expect(full.tokens.count == 8)
        // A budget far beyond the context reserves only the context (it used to reserve the budget).
        let huge = try model.generate(prompt: [1, 2], maxNewTokens: Int.max)
        #expect(huge.stopReason == .contextFull && huge.tokens == full.tokens)
    }

    @Test func samplingIsSeededAndRespectsTopK() {
        let logits: [Float] = [0, 3, 1, 2.5, -1]
        var a = Sampler(SamplingParameters(temperature: 1, seed: 42))
        var b = Sampler(SamplingParameters(temperature: 1, seed: 42))
        let da = (0..<200).map { _ in a.sample(logits) }
        #expect(da == (0..<200).map { _ in b.sample(logits) })
        #expect(Set(da).count > 2)
        var k2 = Sampler(SamplingParameters(temperature: 1, topK: 2, seed: 1))
        #expect(Set((0..<200).map { _ in k2.sample(logits) }) == [1, 3])
        var p = Sampler(SamplingParameters(temperature: 1, topP: 0.5, seed: 1))
        #expect(Set((0..<200).map { _ in p.sample(logits) }) == [1])
        var g = Sampler(.greedy)
        #expect(g.sample(logits) == 1)
    }
}
