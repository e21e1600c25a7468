import Analyses
import ArgumentParser
import Foundation
import Models

extension Loupe.Steer {
    /// `loupe steer actadd`: Turner et al.'s ActAdd, position by position at the prompt's start.
    struct ActAdd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "actadd",
            abstract: "ActAdd (Turner et al. 2023): add a prompt pair's activation difference to the first positions of a prompt.",
            discussion: """
            Runs --positive and --negative (e.g. "Love" / "Hate"), takes the residual stream \
            entering block --layer (blocks.L.hook_resid_pre) at every position, the shorter \
            prompt padded on the right with the space token as the paper's code does, and adds \
            --coefficient x (positive - negative) to the first positions of each --prompt at that \
            layer, one row per position. The rest of the prompt and the generated tokens are not \
            edited; they read the edit through attention. Each prompt is generated without and \
            with the edit, greedy by default (--temperature, --seed for sampling). A prompt \
            shorter than the pair is refused. Defaults: --layer 6, --coefficient 5, \
            --max-tokens 24 (the paper's GPT-2-XL examples use layers 6-20, coefficients 1-15).

            `steer derive --positive P --negative N` is a different method under its own name \
            (pooled ActAdd): one pooled vector per prompt, added at every selected position.

            Example: loupe steer actadd --positive "Love" --negative "Hate" --layer 6 \
            --coefficient 5 --prompt "I hate you because"
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "The positive prompt of the pair.") var positive: String
        @Option(help: "The negative prompt of the pair.") var negative: String
        @Option(help: "The block whose input (hook_resid_pre) is edited (default 6).") var layer = 6
        @Option(help: "The coefficient c in c x (positive - negative) (default 5).") var coefficient: Double = 5
        @Option(help: "A prompt to generate from (repeatable).") var prompt: [String] = []
        @Option(name: .customLong("max-tokens"), help: "Tokens to generate per run (default 24).") var maxTokens = 24
        @Option(help: "0 is greedy (default).") var temperature: Float = 0
        @Option(help: "Sampling seed, the same for both runs.") var seed: UInt64 = 0
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        struct Output: Encodable {
            let addition: ActivationAddition
            let rowNorms: [Double]
            let generations: [ActivationAddition.Comparison]
        }

        func validate() throws {
            if prompt.isEmpty { throw ValidationError("give at least one --prompt TEXT") }
            if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens)") }
        }

        func run() throws {
            let m = try modelOptions.load()
            let addition = try ActivationAddition(model: m.transformer, tokenizer: m.tokenizer, positive: positive,
                                                  negative: negative, layer: layer, coefficient: coefficient)
            let sampling = SamplingParameters(temperature: temperature, topK: 0, topP: 1, seed: seed)
            let generations = try prompt.map {
                try addition.compare(model: m.transformer, tokenizer: m.tokenizer, prompt: $0, maxNewTokens: maxTokens,
                                     sampling: sampling, stopTokens: Set(m.tokenizer.eogIDs))
            }
            if format == .json { return try Console.json(Output(addition: addition, rowNorms: addition.rowNorms, generations: generations)) }
            Console.out("ActAdd at \(addition.point.name), c = \(coefficient): \(addition.count) position(s)")
            Console.out("  positive: " + addition.positive.map { m.tokenizer.tokenString($0) }.joined(separator: "|"))
            Console.out("  negative: " + addition.negative.map { m.tokenizer.tokenString($0) }.joined(separator: "|"))
            Console.out("  row norms: " + addition.rowNorms.map { String(format: "%.1f", $0) }.joined(separator: ", "))
            for g in generations {
                Console.out("\n\(g.prompt)")
                Console.out("  unsteered | " + g.unsteered.replacingOccurrences(of: "\n", with: "⏎"))
                Console.out("  actadd    | " + g.steered.replacingOccurrences(of: "\n", with: "⏎"))
            }
        }
    }
}
