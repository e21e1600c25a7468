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
            skips the prompts already stored. Several processes running the same command on \
            one store share the work: each claims a batch before computing it, so every prompt \
            is computed once and the store equals a single run's; a batch claimed by a process \
            that was killed is taken over. A store holds one model's captures unless \
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

            Sharding: with --shard I/N (or a job array's variables, see --shard) a process \
            captures batch b of the capture (batches of --batch-size / --batch-tokens, in \
            prompt order) when b mod N is I, into its own store STORE-shard-I-of-N (before the \
            extension); rerunning a shard resumes it. `loupe store merge OUT SHARDS...` joins \
            the N stores into the store one process writes, row for row and bit for bit.
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
        @OptionGroup var shardOptions: ShardOptions

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

        /// The job as the options describe it; a shard writes to its own store.
        func makeJob(_ m: LoadedModel) throws -> CaptureJob {
            let shard = try shardOptions.resolved()
            var job = CaptureJob(storePath: shard.map { ActivationStore.shardPath(store, shard: $0.shard) } ?? store,
                                 hooks: try HookPattern.resolve(hooks, config: m.config),
                                 positions: CapturePositions(positions)!, dtype: dtype)
            (job.batchSize, job.batchTokens, job.maxTokens) = (batchSize, batchTokens, maxTokens)
            (job.allowModelMismatch, job.overwrite) = (allowModelMismatch, overwrite)
            if let shard {
                job.shard = shard.shard
                Console.progress("shard \(shard.shard) (from \(shard.source)) into \(job.storePath)")
            }
            return job
        }

        func run() throws {
            let records = try prompts.map(PromptFile.read) ?? CorpusFile.read(corpus!)
            let m = try modelOptions.load()
            let job = try makeJob(m)
            let store = job.storePath
            let input: CaptureJob.Input
            if let corpus {
                let windows = try CorpusWindows(
                    context: context!, maxContext: m.config.contextLength, minWindow: minWindow,
                    bos: prompt.addSpecial && m.tokenizer.spec.addBOS ? m.tokenizer.bosID : nil,
                    eos: prompt.addSpecial && m.tokenizer.spec.addEOS ? m.tokenizer.eosID : nil)
                input = try .corpus(records, path: corpus, windows: windows, addSpecial: prompt.addSpecial,
                                    parseSpecial: !prompt.noParseSpecial, tokenizer: m.tokenizer, progress: Console.progress)
            } else {
                input = try .prompts(records, path: prompts!, encoding: prompt.encoding, tokenizer: m.tokenizer)
            }
            let unit = corpus == nil ? "prompts" : "windows"
            let start = DispatchTime.now().uptimeNanoseconds
            let outcome = try job.run(input, model: m) { p in
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                Console.progress(String(format: "%d/%d %@ stored, %d tokens this run, %.0f tokens/s",
                                        p.done, p.total, unit, p.capturedTokens, Double(p.capturedTokens) / max(seconds, 1e-9)))
            }
            let p = outcome.progress
            let summary = Summary(store: store, capture: outcome.captureID, hooks: job.hooks.count, positions: job.positions.spec,
                                  dtype: dtype.rawValue, prompts: p.total, alreadyStored: p.total - p.capturedPrompts,
                                  capturedPrompts: p.capturedPrompts, capturedTokens: p.capturedTokens,
                                  documents: input.documents, context: context,
                                  forwardSeconds: p.forwardSeconds, writeSeconds: p.writeSeconds)
            if format == .json { return try Console.json(summary) }
            Console.out("capture \(outcome.captureID) in \(store): \(job.hooks.count) hook(s), positions \(job.positions.spec), \(dtype.rawValue)")
            if let documents = input.documents, let context {
                Console.out("\(outcome.datasetPrompts) window(s) of \(context) tokens from \(documents) document(s)"
                            + (p.total < outcome.datasetPrompts ? "; \(p.total) within --max-tokens" : ""))
            }
            Console.out("\(p.capturedPrompts) \(unit), \(p.capturedTokens) tokens captured; \(summary.alreadyStored) already stored; \(p.total) in the \(maxTokens == nil ? "dataset" : "capture")")
            // Timings go with the progress lines, so the output is the same on every run.
            Console.progress(String(format: "forward %.2f s, writing %.2f s", p.forwardSeconds, p.writeSeconds))
        }
    }
}
