import ArgumentParser
import Models
import Store
import Tokenizers

extension Loupe {
    /// `loupe tokenize`: text to token ids, as the model's own tokenizer does it.
    struct Tokenize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the token ids and pieces of text.",
            discussion: "Pieces are shown with spaces as '␣' and newlines as '↵' in text output.")

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Argument(help: "Text to tokenize (or use --input).") var text: String?
        @Option(help: "A prompt file: .txt one per line, .jsonl with \"text\", or .tsv with a text column.") var input: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if (text == nil) == (input == nil) { throw ValidationError("give either a text argument or --input FILE") }
        }

        struct Entry: Encodable { let text: String; let ids: [Int]; let tokens: [String] }

        func run() throws {
            let m = try modelOptions.load()
            let texts = try input.map { try PromptFile.read($0).map(\.text) } ?? [text!]
            let entries = try texts.map { t in
                let ids = try prompt.encode(t, with: m)
                return Entry(text: t, ids: ids, tokens: ids.map { m.tokenizer.tokenString($0) })
            }
            if format == .json {
                return try input == nil ? Console.json(entries[0]) : Console.json(entries)
            }
            for e in entries {
                Console.out("\(e.ids.count) tokens: \(e.ids.map(String.init).joined(separator: " "))")
                Console.out(e.tokens.map(displayPiece).joined(separator: " | "))
            }
        }
    }
}

/// A token piece made visible: spaces as '␣', newlines as '↵', tabs as '⇥'.
func displayPiece(_ s: String) -> String {
    s.replacingOccurrences(of: " ", with: "␣").replacingOccurrences(of: "\n", with: "↵")
        .replacingOccurrences(of: "\t", with: "⇥")
}

import Foundation
