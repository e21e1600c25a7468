import Models
import ArgumentParser
import Foundation
import Store

extension Loupe {
    /// `loupe store`: look into, export and compact activation stores.
    struct StoreCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "List, inspect, verify, export (.npy, .csv), compact and merge activation stores.",
            subcommands: [List.self, Show.self, Verify.self, Export.self, Vacuum.self, Merge.self])

        /// `loupe store ls`.
        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the captures in a store.")
            @Argument(help: "The store file.") var store: String
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            func run() throws {
                let captures = try ActivationStore(path: store).captures()
                if format == .json { return try Console.json(captures) }
                Console.out("capture  model  dataset  hooks  positions  dtype  prompts  rows/hook  size")
                for c in captures {
                    Console.out("\(c.id)  \(c.model)  \(c.dataset)  \(StoreCommand.hookSummary(c.hooks))  \(c.positions)  "
                                + "\(c.dtype)  \(c.promptsDone)/\(c.promptsTotal)  \(c.rowsPerHook)  \(StoreCommand.bytes(c.bytes))")
                }
                Console.out("\(captures.count) capture(s)")
            }
        }

        /// `loupe store show`.
        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a store's models and captures, and the first prompts of one capture.")
            @Argument(help: "The store file.") var store: String
            @Option(help: "Capture id (default: the only one).") var capture: Int64?
            @Option(help: "How many prompts to list.") var prompts = 5
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            struct PromptEntry: Encodable { let index: Int; let text: String; let tokens: Int; let positions: [Int]; let metadata: [String: JSONValue] }
            struct Output: Encodable { let models: [ModelIdentity]; let capture: CaptureSummary; let prompts: [PromptEntry] }

            func run() throws {
                let db = try ActivationStore(path: store)
                let summary = try StoreCommand.choose(capture, in: db)
                let record = try db.capture(id: summary.id)
                let stored = try db.prompts(dataset: record.datasetID)
                let done = try db.completedPrompts(capture: record.id)
                let entries = try stored.filter { done.contains($0.id) }.prefix(max(0, prompts)).map { p in
                    PromptEntry(index: p.index, text: p.text, tokens: p.tokens.count,
                                positions: try db.activation(capture: record, hook: record.hooks[0], prompt: p.id)?.positions ?? [],
                                metadata: p.metadata)
                }
                let out = Output(models: try db.models(), capture: summary, prompts: entries)
                if format == .json { return try Console.json(out) }
                for m in out.models {
                    Console.out("model \(m.name) (\(m.architecture), \(m.config.nLayers) layers, d_model \(m.config.dModel)) "
                                + "hash \(m.fileHash), tokenizer \(m.tokenizerHash), from \(abbreviatingHome(m.path))")
                }
                Console.out("capture \(summary.id): dataset \(summary.dataset), positions \(summary.positions), \(summary.dtype), "
                            + "\(summary.promptsDone)/\(summary.promptsTotal) prompts, \(summary.rowsPerHook) rows per hook, \(StoreCommand.bytes(summary.bytes))")
                Console.out("hooks: " + summary.hooks.joined(separator: " "))
                for e in entries {
                    let meta = e.metadata.isEmpty ? "" : "  " + e.metadata.keys.sorted().map { "\($0)=\(e.metadata[$0]!.text)" }.joined(separator: " ")
                    Console.out("[\(e.index)] \(e.tokens) tokens, positions \(StoreCommand.positions(e.positions))\(meta): \(e.text)")
                }
            }
        }

        /// `loupe store export`.
        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Export one hook's rows to .npy (with a .rows.jsonl of labels) or .csv.",
                discussion: """
                FILE.npy gets a [rows, width] array (numpy.load reads it) and FILE.rows.jsonl one \
                line per row: prompt index, position, token and the prompt's metadata. FILE.csv \
                holds both, for small selections (at most 1,000,000 values; use --limit).
                """)
            @Argument(help: "The store file.") var store: String
            @Option(help: "Capture id (default: the only one).") var capture: Int64?
            @Option(help: "Hook point name.") var hook: String
            @Option(help: "Output file: .npy or .csv.") var out: String
            @Option(help: "Only the first N rows.") var limit: Int?
            @Option(help: "Exported dtype for .npy: f32 or f16.") var dtype: ActivationDType = .f32
            @Option(help: "Shuffle rows with this seed (default: stored order).") var seed: UInt64?

            func run() throws {
                let db = try ActivationStore(path: store)
                let record = try db.capture(id: try StoreCommand.choose(capture, in: db).id)
                var reader = try ActivationReader(store: db, capture: record, hook: hook, batchSize: 4096,
                                                  order: seed.map { .shuffled(seed: $0) } ?? .stored)
                let rows = min(limit ?? reader.rowCount, reader.rowCount)
                let csv = out.lowercased().hasSuffix(".csv")
                guard csv || out.lowercased().hasSuffix(".npy") else {
                    throw ValidationError("--out must end in .npy or .csv, not \(out)")
                }
                if csv && rows * reader.width > 1_000_000 {
                    throw ValidationError("\(rows) rows x \(reader.width) values is too much for CSV; use .npy or --limit \(max(1, 1_000_000 / max(reader.width, 1)))")
                }
                let export = try csv ? RowExport.csv(path: out, width: reader.width)
                                     : RowExport.npy(path: out, rows: rows, width: reader.width, dtype: dtype)
                var left = rows
                while left > 0, let batch = try reader.nextBatch() {
                    try export.write(batch, count: min(left, batch.positions.count))
                    left -= min(left, batch.positions.count)
                }
                try export.close()
                Console.out("\(rows) rows x \(reader.width) of \(hook) (capture \(record.id)) -> \(out)" + (csv ? "" : " + \(RowExport.labelsPath(out))"))
            }
        }

        /// `loupe store verify`.
        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check a store: SQLite's integrity check, then Loupe's own invariants.",
                discussion: """
                Loupe's checks: every value decodes (UTF-8 text, JSON, shapes whose sizes fit), \
                every prompt a capture records has one activation per hook with one row per kept \
                position, each position lies inside its prompt, no activation belongs to a prompt \
                or hook the capture lacks, and every blob's length matches its shape and dtype. \
                Prints each problem and exits 1 when there is any, 0 for a sound store. Reads only.
                Example: loupe store verify runs/sentiment.db
                """)
            @Argument(help: "The store file.") var store: String

            func run() throws {
                let db = try ActivationStore(path: store)
                let integrity = try db.integrityCheck()
                let problems = (integrity == ["ok"] ? [] : integrity.map { "sqlite: \($0)" }) + (try db.verify())
                for p in problems { Console.out(p) }
                guard problems.isEmpty else {
                    Console.out("\(store): \(problems.count) problem(s)")
                    throw ExitCode(1)
                }
                Console.out("\(store): ok (SQLite integrity and Loupe's invariants)")
            }
        }

        /// `loupe store vacuum`.
        struct Vacuum: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Checkpoint the WAL and compact the store file.")
            @Argument(help: "The store file.") var store: String

            func run() throws {
                let db = try ActivationStore(path: store, writable: true)
                let (before, after) = try db.vacuum()
                let check = try db.integrityCheck()
                Console.out("\(store): \(StoreCommand.bytes(before)) -> \(StoreCommand.bytes(after)); integrity \(check.joined(separator: "; "))")
            }
        }

        /// `loupe store merge`.
        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Join the stores of a sharded capture into the store one process writes.",
                discussion: """
                Each SHARD is the store of one `loupe capture --shard I/N` run (STORE-shard-I-of-N). \
                They must hold the same captures (model and tokenizer hashes, prompts, hooks, \
                positions, dtype), made with one split (N, --batch-size, --batch-tokens, \
                --max-tokens), every shard once and finished; the merge names the store or shard \
                that breaks this. Rows are copied byte for byte, batch by batch, in the order one \
                process commits them, so OUT equals a single-process capture row for row (ids \
                included). OUT is built beside its path and renamed into place when complete.

                Example (a Slurm array of 3 tasks, then the merge):
                  loupe capture --prompts p.jsonl --hooks 'blocks.*.hook_resid_post' --store acts.sqlite --shard $SLURM_ARRAY_TASK_ID/3
                  loupe store merge acts.sqlite acts-shard-*-of-3.sqlite
                """)
            @Argument(help: "The new store.") var out: String
            @Argument(help: "The shards' stores.") var shards: [String] = []
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            func validate() throws {
                if shards.isEmpty { throw ValidationError("give the shards' stores after OUT") }
            }

            func run() throws {
                let summary = try ActivationStore.merge(into: out, from: shards, progress: Console.progress)
                if format == .json { return try Console.json(summary) }
                Console.out("\(out): \(summary.captures) capture(s), \(summary.prompts) prompts, \(summary.activationRows) activation rows from \(shards.count) shards")
            }
        }

        /// The summary of capture `id`, or of the only capture when `id` is nil (the CLI's
        /// wording of ``ActivationStore/captureSummary(choosing:)``'s ambiguity error).
        static func choose(_ id: Int64?, in db: ActivationStore) throws -> CaptureSummary {
            do { return try db.captureSummary(choosing: id) } catch StoreError.ambiguousCapture(let path, let ids) {
                throw ValidationError("\(path) holds \(ids.count) captures (ids \(ids.map(String.init).joined(separator: ", "))); choose one with --capture")
            }
        }

        static func hookSummary(_ hooks: [String]) -> String {
            hooks.count <= 2 ? hooks.joined(separator: ",") : "\(hooks[0])..(\(hooks.count))"
        }

        static func positions(_ p: [Int]) -> String {
            if p.count > 2, p == Array(p[0]...p[p.count - 1]) { return "\(p[0])..\(p[p.count - 1])" }
            return p.map(String.init).joined(separator: ",")
        }

        static func bytes(_ n: Int64) -> String {
            n < 1 << 20 ? String(format: "%.1f KB", Double(n) / 1024) : String(format: "%.1f MB", Double(n) / 1_048_576)
        }
    }
}
