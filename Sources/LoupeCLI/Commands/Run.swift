import ArgumentParser
import Foundation
import Linalg
import Models
import Store

extension Loupe {
    /// `loupe run`: the most likely next tokens after a prompt.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the top-k next tokens with their probabilities for a prompt.",
            discussion: "With --input, all prompts run in batches through one model load.")

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Argument(help: "The prompt (or use --input).") var text: String?
        @Option(help: "A prompt file: .txt one per line, .jsonl with \"text\", or .tsv with a text column.") var input: String?
        @Option(name: .customLong("top-k"), help: "How many next tokens to show.") var topK = 10
        @Option(help: "Prompts per forward pass with --input.") var batchSize = 16
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if (text == nil) == (input == nil) { throw ValidationError("give either a prompt argument or --input FILE") }
            if topK < 1 { throw ValidationError("--top-k must be at least 1") }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        struct Candidate: Encodable { let id: Int; let token: String; let probability: Float; let logit: Float }
        struct Entry: Encodable { let text: String; let ids: [Int]; let top: [Candidate] }

        func run() throws {
            let m = try modelOptions.load()
            let texts = try input.map { try PromptFile.read($0).map(\.text) } ?? [text!]
            let ids = try texts.map { try prompt.encode($0, with: m) }
            var entries: [Entry] = []
            let start = Date()
            for batch in stride(from: 0, to: ids.count, by: batchSize) {
                let range = batch..<min(batch + batchSize, ids.count)
                let logits = try m.transformer.forward(Array(ids[range])).logits
                for (i, l) in zip(range, logits) {
                    entries.append(Entry(text: texts[i], ids: ids[i], top: top(l.scalars, m)))
                }
                if ids.count > batchSize { Console.progress("\(range.upperBound)/\(ids.count) prompts") }
            }
            Console.progress(String(format: "%d prompt(s) in %.2f s", ids.count, Date().timeIntervalSince(start)))
            if format == .json { return try input == nil ? Console.json(entries[0]) : Console.json(entries) }
            for e in entries {
                Console.out("\(e.text)  (\(e.ids.count) tokens)")
                let width = e.top.map { displayPiece($0.token).count + 2 }.max() ?? 0
                Console.out("rank  " + "token".padding(toLength: width, withPad: " ", startingAt: 0)
                            + "  probability     logit     id")
                for (rank, c) in e.top.enumerated() {
                    let token = ("'" + displayPiece(c.token) + "'").padding(toLength: width, withPad: " ", startingAt: 0)
                    Console.out(String(format: "%4d  ", rank + 1) + token
                                + String(format: "  %11.4f  %8.4f  %5d", c.probability, c.logit, c.id))
                }
            }
        }

        func top(_ logits: [Float], _ m: LoadedModel) -> [Candidate] {
            let probs = softmax(logits)
            return logits.indices.sorted { logits[$0] > logits[$1] }.prefix(topK).map {
                Candidate(id: $0, token: m.tokenizer.tokenString($0), probability: probs[$0], logit: logits[$0])
            }
        }
    }
}

/// Softmax of a logit vector, in Double for accuracy.
func softmax(_ logits: [Float]) -> [Float] {
    let m = logits.max() ?? 0
    let e = logits.map { Foundation.exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
}
