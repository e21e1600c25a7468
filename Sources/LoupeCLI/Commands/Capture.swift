import ArgumentParser
import Foundation
import Models
import Store

extension ActivationDType: ExpressibleByArgument {}

extension Loupe {
    /// `loupe capture`: run prompts through the model and store chosen activations.
    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture hook-point activations of many prompts into an SQLite store.",
            discussion: """
            Prompts come from a .txt file (one per line), a .jsonl file (a "text" field plus any \
            label fields) or a .tsv file with a header row that has a "text" column. Each batch \
            of prompts commits in one transaction; running the same command again resumes and \
            skips the prompts already stored. A store holds one model's captures unless \
            --allow-model-mismatch is given.

            Hook patterns are globs over hook names, comma-separated: \
            'blocks.*.hook_resid_post', 'blocks.1[0-5].mlp.hook_post'. Positions: all, last, \
            an index (negative counts from the end) or subject (the last token of each JSONL \
            prompt's "subject" field).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Option(help: "Prompt file: .txt, .jsonl or .tsv.") var prompts: String
        @Option(help: "Hook name patterns (globs), comma-separated.") var hooks: String
        @Option(help: "Positions to keep: all, last, N, or subject.") var positions = "all"
        @Option(help: "Stored dtype: f16 or f32.") var dtype: ActivationDType = .f16
        @Option(help: "The store file (created if missing).") var store: String
        @Option(help: "Most prompts per forward pass.") var batchSize = 16
        @Option(help: "Most tokens per forward pass.") var batchTokens = 8192
        @Flag(name: [.customLong("allow-model-mismatch"), .customLong("force")],
              help: "Add this model's captures to a store made with another model or tokenizer.")
        var allowModelMismatch = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if CapturePositions(positions) == nil {
                throw ValidationError("--positions must be all, last, subject or an integer, not '\(positions)'")
            }
            if batchSize < 1 || batchTokens < 1 { throw ValidationError("--batch-size and --batch-tokens must be at least 1") }
        }

        struct Summary: Encodable {
            let store: String, capture: Int64, hooks: Int, positions: String, dtype: String
            let prompts: Int, alreadyStored: Int, capturedPrompts: Int, capturedTokens: Int
            let forwardSeconds: Double, writeSeconds: Double
        }

        func run() throws {
            let records = try PromptFile.read(prompts)
            let m = try modelOptions.load()
            let points = try HookPattern.resolve(hooks, config: m.config)
            let selection = CapturePositions(positions)!
            let encoded = try records.map { (record: $0, tokens: try prompt.encode($0.text, with: m)) }
            let kept = try encoded.map { e in
                try selection.resolve(tokens: e.tokens, subject: e.record.subject, tokenizer: m.tokenizer,
                                      prompt: "\(prompts):\(e.record.line)")
            }
            let identity = try ModelIdentity(of: m)
            let db = try ActivationStore(path: store, create: true)
            let modelID = try db.register(identity, allowMismatch: allowModelMismatch)
            let encoding = "{\"addSpecial\":\(prompt.addSpecial),\"chat\":\(prompt.chat),\"parseSpecial\":\(!prompt.noParseSpecial)}"
            let dataset = try db.dataset(name: (prompts as NSString).lastPathComponent, source: prompts, encoding: encoding,
                                         tokenizerHash: identity.tokenizerHash, prompts: encoded)
            let capture = try db.capture(model: modelID, dataset: dataset.id, hooks: points.map(\.name),
                                         positions: selection.spec, dtype: dtype)
            let capturer = Capturer(model: m.transformer, store: db, capture: capture, batchSize: batchSize,
                                    batchTokens: batchTokens)
            let p = try capturer.run(prompts: dataset.prompts, positions: kept) { p in
                Console.progress("\(p.done)/\(p.total) prompts stored")
            }
            let summary = Summary(store: store, capture: capture.id, hooks: points.count, positions: selection.spec,
                                  dtype: dtype.rawValue, prompts: p.total, alreadyStored: p.total - p.capturedPrompts,
                                  capturedPrompts: p.capturedPrompts, capturedTokens: p.capturedTokens,
                                  forwardSeconds: p.forwardSeconds, writeSeconds: p.writeSeconds)
            if format == .json { return try Console.json(summary) }
            Console.out("capture \(capture.id) in \(store): \(points.count) hook(s), positions \(selection.spec), \(dtype.rawValue)")
            Console.out("\(p.capturedPrompts) prompt(s), \(p.capturedTokens) tokens captured; \(summary.alreadyStored) already stored; \(p.total) in the dataset")
            Console.out(String(format: "forward %.2f s, writing %.2f s", p.forwardSeconds, p.writeSeconds))
        }
    }
}
