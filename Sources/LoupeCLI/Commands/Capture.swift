import ArgumentParser
import Foundation
import Linalg
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

            --corpus FILE --context N captures a text corpus instead: documents from a .jsonl \
            file (a "text" field, other fields such as "source" kept as metadata) or a .txt file \
            (documents separated by blank lines) are tokenized and cut into consecutive \
            N-token windows, each stored as a prompt with metadata document, window and the \
            document's fields. A last window with fewer than --min-window document tokens \
            (default: a full window) is dropped. With --add-special each window starts with BOS and \
            each document ends with EOS if the model file asks for them (the BOS counts in N). \
            --max-tokens caps the capture: whole batches, from the start, up to the one that \
            reaches it; a later run with a larger cap continues.

            Hook patterns are globs over hook names, comma-separated: \
            'blocks.*.hook_resid_post', 'blocks.1[0-5].mlp.hook_post'. Positions: all, last, \
            an index (negative counts from the end) or subject (the last token of each JSONL \
            prompt's "subject" field).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Option(help: "Prompt file: .txt, .jsonl or .tsv.") var prompts: String?
        @Option(help: "Corpus file: .jsonl (\"text\" per line) or .txt (blank-line separated documents); needs --context.")
        var corpus: String?
        @Option(help: "Tokens per corpus window.") var context: Int?
        @Option(help: "Fewest document tokens a last, partial window may have (default: a full window, so partial ones are dropped).")
        var minWindow: Int?
        @Option(help: "Capture the leading batches up to the one that reaches this many tokens.") var maxTokens: Int?
        @Option(help: "Hook name patterns (globs), comma-separated.") var hooks: String
        @Option(help: "Positions to keep: all, last, N, or subject.") var positions = "all"
        @Option(help: "Stored dtype: f16 or f32.") var dtype: ActivationDType = .f16
        @Option(help: "The store file (created if missing).") var store: String
        @Option(help: "Most prompts per forward pass.") var batchSize = 16
        @Option(help: "Most tokens per forward pass.") var batchTokens = 8192
        @Flag(name: [.customLong("allow-model-mismatch"), .customLong("force")],
              help: "Add this model's captures to a store made with another model or tokenizer.")
        var allowModelMismatch = false
        @Flag(help: "Start a new store: delete the store file (with its -wal and -shm) first if it exists.")
        var overwrite = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            switch (prompts, corpus) {
            case (nil, nil): throw ValidationError("give --prompts FILE or --corpus FILE --context N")
            case (_?, _?): throw ValidationError("--prompts and --corpus cannot be used together; give one")
            case (_?, nil):
                if context != nil || minWindow != nil { throw ValidationError("--context and --min-window apply to --corpus only") }
            case (nil, _?):
                guard context != nil else { throw ValidationError("--corpus needs --context N (tokens per window)") }
                if positions == "subject" { throw ValidationError("--positions subject needs prompts with a \"subject\" field; corpus windows have none") }
                if prompt.chat { throw ValidationError("--chat does not apply to --corpus") }
            }
            if CapturePositions(positions) == nil {
                throw ValidationError("--positions must be all, last, subject or an integer, not '\(positions)'")
            }
            if batchSize < 1 || batchTokens < 1 { throw ValidationError("--batch-size and --batch-tokens must be at least 1") }
            if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, not \(maxTokens)") }
        }

        struct Summary: Encodable {
            let store: String, capture: Int64, hooks: Int, positions: String, dtype: String
            let prompts: Int, alreadyStored: Int, capturedPrompts: Int, capturedTokens: Int
            /// Corpus captures: documents read and window length.
            let documents: Int?, context: Int?
            let forwardSeconds: Double, writeSeconds: Double
        }

        /// The dataset to capture: its name, source, how it was tokenized, its prompts, and
        /// (corpus) the document count.
        struct Input {
            var name: String, source: String, encoding: String
            var prompts: [(record: PromptRecord, tokens: [Int])]
            var documents: Int?
        }

        func run() throws {
            let records = try prompts.map(PromptFile.read) ?? CorpusFile.read(corpus!)
            let m = try modelOptions.load()
            let points = try HookPattern.resolve(hooks, config: m.config)
            let selection = CapturePositions(positions)!
            let input = try corpus == nil ? promptInput(records, model: m) : corpusInput(records, model: m)
            let kept = try input.prompts.map { e in
                try selection.resolve(tokens: e.tokens, subject: e.record.subject, tokenizer: m.tokenizer,
                                      prompt: "\(input.source):\(e.record.line)")
            }
            let identity = try ModelIdentity(of: m)
            try prepareStoreLocation()
            let db = try ActivationStore(path: store, create: true)
            let modelID = try db.register(identity, allowMismatch: allowModelMismatch)
            let dataset = try db.dataset(name: input.name, source: input.source, encoding: input.encoding,
                                         tokenizerHash: identity.tokenizerHash, prompts: input.prompts)
            let capture = try db.capture(model: modelID, dataset: dataset.id, hooks: points.map(\.name),
                                         positions: selection.spec, dtype: dtype)
            let capturer = Capturer(model: m.transformer, store: db, capture: capture, batchSize: batchSize,
                                    batchTokens: batchTokens)
            let unit = corpus == nil ? "prompts" : "windows"
            let start = DispatchTime.now().uptimeNanoseconds
            let p = try capturer.run(prompts: dataset.prompts, positions: kept, maxTokens: maxTokens) { p in
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                Console.progress(String(format: "%d/%d %@ stored, %d tokens this run, %.0f tokens/s",
                                        p.done, p.total, unit, p.capturedTokens, Double(p.capturedTokens) / max(seconds, 1e-9)))
            }
            let summary = Summary(store: store, capture: capture.id, hooks: points.count, positions: selection.spec,
                                  dtype: dtype.rawValue, prompts: p.total, alreadyStored: p.total - p.capturedPrompts,
                                  capturedPrompts: p.capturedPrompts, capturedTokens: p.capturedTokens,
                                  documents: input.documents, context: context,
                                  forwardSeconds: p.forwardSeconds, writeSeconds: p.writeSeconds)
            if format == .json { return try Console.json(summary) }
            Console.out("capture \(capture.id) in \(store): \(points.count) hook(s), positions \(selection.spec), \(dtype.rawValue)")
            if let documents = input.documents, let context {
                Console.out("\(dataset.prompts.count) window(s) of \(context) tokens from \(documents) document(s)"
                            + (p.total < dataset.prompts.count ? "; \(p.total) within --max-tokens" : ""))
            }
            Console.out("\(p.capturedPrompts) \(unit), \(p.capturedTokens) tokens captured; \(summary.alreadyStored) already stored; \(p.total) in the \(maxTokens == nil ? "dataset" : "capture")")
            // Timings go with the progress lines, so the output is the same on every run.
            Console.progress(String(format: "forward %.2f s, writing %.2f s", p.forwardSeconds, p.writeSeconds))
        }

        /// Creates the store's folder, and with --overwrite removes an existing store (only
        /// after the inputs were read and checked, so a bad input never deletes anything;
        /// a file that is not a Loupe store is never deleted).
        func prepareStoreLocation() throws {
            let fm = FileManager.default
            let folder = (store as NSString).deletingLastPathComponent
            if !folder.isEmpty && !fm.fileExists(atPath: folder) {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            guard overwrite, fm.fileExists(atPath: store) else { return }
            // Only ever delete a Loupe store (opening anything else throws notAStore).
            do { _ = try ActivationStore(path: store) }
            for path in [store, store + "-wal", store + "-shm"] where fm.fileExists(atPath: path) {
                try fm.removeItem(atPath: path)
            }
        }

        /// `--prompts`: each record is one prompt.
        func promptInput(_ records: [PromptRecord], model m: LoadedModel) throws -> Input {
            let path = prompts!
            let encoded = try records.map { (record: $0, tokens: try prompt.encode($0.text, with: m)) }
            let encoding = "{\"addSpecial\":\(prompt.addSpecial),\"chat\":\(prompt.chat),\"parseSpecial\":\(!prompt.noParseSpecial)}"
            return Input(name: (path as NSString).lastPathComponent, source: path, encoding: encoding, prompts: encoded)
        }

        /// `--corpus`: documents tokenized (in parallel) and cut into windows.
        func corpusInput(_ documents: [PromptRecord], model m: LoadedModel) throws -> Input {
            let path = corpus!, tokenizer = m.tokenizer
            let windows = try CorpusWindows(
                context: context!, maxContext: m.config.contextLength, minWindow: minWindow,
                bos: prompt.addSpecial && tokenizer.spec.addBOS ? tokenizer.bosID : nil,
                eos: prompt.addSpecial && tokenizer.spec.addEOS ? tokenizer.eosID : nil)
            let parseSpecial = !prompt.noParseSpecial
            let start = DispatchTime.now().uptimeNanoseconds
            // Documents tokenize independently: chunks of them on every core.
            var tokens = [[Int]](repeating: [], count: documents.count)
            tokens.withUnsafeMutableBufferPointer { out in
                parallelChunks(documents.count, chunks: ProcessorInfo.cores * 8) { range in
                    for i in range { out[i] = tokenizer.encode(documents[i].text, addSpecialTokens: false, parseSpecial: parseSpecial) }
                }
            }
            let count = tokens.reduce(0) { $0 + $1.count }
            Console.progress(String(format: "tokenized %d documents: %d tokens in %.1f s", documents.count, count,
                                    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            let cut = windows.windows(documents: documents, tokens: tokens) {
                String(decoding: tokenizer.bytes(for: $0), as: UTF8.self)
            }
            if cut.isEmpty {
                throw ValidationError("\(path): no windows: every document has fewer than --min-window \(windows.minWindow) tokens")
            }
            let encoding = "{\"addSpecial\":\(prompt.addSpecial),\"context\":\(windows.context),\"minWindow\":\(windows.minWindow),"
                + "\"parseSpecial\":\(parseSpecial),\"windows\":\"corpus\"}"
            return Input(name: (path as NSString).lastPathComponent, source: path, encoding: encoding, prompts: cut,
                         documents: documents.count)
        }
    }
}
