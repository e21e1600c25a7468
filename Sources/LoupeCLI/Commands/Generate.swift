import ArgumentParser
import Foundation
import Models
import Tokenizers

extension Loupe {
    /// `loupe generate`: continue a prompt.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text after a prompt (greedy by default).",
            discussion: """
            Sampling applies temperature, then top-k, then top-p, drawing from a seeded \
            generator: the same seed gives the same text. Generation stops at the model's \
            end-of-generation tokens (e.g. <|im_end|>) unless --ignore-eos is given.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Argument(help: "The prompt.") var text: String
        @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 64
        @Option(help: "0 is greedy; higher is more random.") var temperature: Float = 0
        @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: all).") var topK = 0
        @Option(name: .customLong("top-p"), help: "Sample among the most likely tokens up to this total probability.") var topP: Float = 1
        @Option(help: "Seed for sampling.") var seed: UInt64 = 0
        @Flag(help: "Do not stop at end-of-generation tokens.") var ignoreEos = false
        @Flag(help: "Recompute the whole sequence each step instead of using the KV cache (slow; a check).") var noCache = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
            if temperature < 0 { throw ValidationError("--temperature must be >= 0") }
            if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
            if topK < 0 { throw ValidationError("--top-k must be >= 0") }
        }

        struct Output: Encodable {
            let prompt: String, promptIds: [Int], ids: [Int], tokens: [String], text: String
            let stopReason: String, tokensPerSecond: Double, sampling: SamplingParameters
        }

        func run() throws {
            let m = try modelOptions.load()
            let ids = try prompt.encode(text, with: m)
            let sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed)
            var decoder = m.tokenizer.streamingDecoder(skipSpecial: true)
            let streaming = format == .text
            // Show the prompt as the model sees it (with --chat, the templated text).
            if streaming { Console.write(m.tokenizer.decode(ids)) }
            let result = try m.transformer.generate(
                prompt: ids, maxNewTokens: maxTokens, sampling: sampling,
                stopTokens: ignoreEos ? [] : Set(m.tokenizer.eogIDs), useCache: !noCache
            ) { id in
                if streaming { Console.write(decoder.push(id)) }
                return true
            }
            if streaming {
                Console.write(decoder.finish())
                Console.out("")
                Console.progress(String(format: "%d tokens, %.1f tokens/s (prompt %d tokens in %.2f s), stop: %@",
                                        result.tokens.count, result.tokensPerSecond, ids.count,
                                        result.prefillSeconds, result.stopReason.rawValue))
                return
            }
            try Console.json(Output(
                prompt: text, promptIds: ids, ids: result.tokens,
                tokens: result.tokens.map { m.tokenizer.tokenString($0) },
                text: m.tokenizer.decode(result.tokens), stopReason: result.stopReason.rawValue,
                tokensPerSecond: result.tokensPerSecond, sampling: sampling))
        }
    }
}
