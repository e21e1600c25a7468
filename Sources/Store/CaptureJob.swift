import Foundation
import Linalg
import Models
import Tokenizers

/// One whole capture into a store: a dataset (prompts or corpus windows, already tokenized)
/// through the model, the chosen hooks' rows at the chosen positions written prompt batch by
/// prompt batch. What `loupe capture` runs, and what `loupe probe train --capture-missing`
/// runs for the hooks a store lacks. Running the same job again resumes: prompts already
/// stored are skipped.
public struct CaptureJob: Sendable {
    /// The store file (created, with its folder, when missing).
    public var storePath: String
    public var hooks: [HookPoint]
    public var positions: CapturePositions
    public var dtype: ActivationDType
    /// Most prompts per forward pass.
    public var batchSize = 16
    /// Most tokens per forward pass.
    public var batchTokens = 8192
    /// Capture the leading batches up to the one that reaches this many tokens (nil: all).
    public var maxTokens: Int?
    /// Add this model's captures to a store made with another model or tokenizer.
    public var allowModelMismatch = false
    /// Delete an existing store first (only a Loupe store; the inputs are checked before).
    public var overwrite = false
    /// The part of the capture this process runs: batch b when `b % shard.count == shard.index`,
    /// into a store of its own (recorded in it; `ActivationStore.merge` joins the shards).
    /// Nil: the whole capture, unsharded.
    public var shard: Shard? = nil

    public init(storePath: String, hooks: [HookPoint], positions: CapturePositions, dtype: ActivationDType = .f16) {
        self.storePath = storePath
        self.hooks = hooks
        self.positions = positions
        self.dtype = dtype
    }

    /// The dataset to capture: its name, source, how it was tokenized, its prompts and
    /// (corpus) the document count.
    public struct Input: Sendable {
        public var name: String
        public var source: String
        /// The tokenization as JSON (``PromptEncoding/json`` or a corpus's windowing).
        public var encoding: String
        public var prompts: [(record: PromptRecord, tokens: [Int])]
        public var documents: Int?

        public init(name: String, source: String, encoding: String, prompts: [(record: PromptRecord, tokens: [Int])],
                    documents: Int? = nil) {
            self.name = name
            self.source = source
            self.encoding = encoding
            self.prompts = prompts
            self.documents = documents
        }

        /// The records of a prompt file, each one prompt, tokenized by `encoding`.
        public static func prompts(_ records: [PromptRecord], path: String, encoding: PromptEncoding,
                                   tokenizer: Tokenizer) throws -> Input {
            let encoded = try records.map { (record: $0, tokens: try encoding.encode($0.text, with: tokenizer)) }
            return Input(name: (path as NSString).lastPathComponent, source: path, encoding: encoding.json, prompts: encoded)
        }

        /// The documents of a corpus file tokenized (chunks of them on every core) and cut
        /// into `windows` (`addSpecial` is recorded: whether `windows` was asked for BOS/EOS).
        /// - Throws: ``StoreError/badWindowing(reason:)`` when no document fills a window.
        public static func corpus(_ documents: [PromptRecord], path: String, windows: CorpusWindows, addSpecial: Bool,
                                  parseSpecial: Bool, tokenizer: Tokenizer, progress: (String) -> Void = { _ in }) throws -> Input {
            let start = DispatchTime.now().uptimeNanoseconds
            var tokens = [[Int]](repeating: [], count: documents.count)
            var failures = [String?](repeating: nil, count: documents.count)
            tokens.withUnsafeMutableBufferPointer { out in
                failures.withUnsafeMutableBufferPointer { failed in
                    parallelChunks(documents.count, chunks: ProcessorInfo.cores * 8) { range in
                        for i in range {
                            do { out[i] = try tokenizer.encode(documents[i].text, addSpecialTokens: false, parseSpecial: parseSpecial) } catch {
                                failed[i] = "\(error)"
                            }
                        }
                    }
                }
            }
            if let i = failures.firstIndex(where: { $0 != nil }) {
                throw StoreError.badPromptFile(path: path, line: documents[i].line, reason: failures[i]!)
            }
            let count = tokens.reduce(0) { $0 + $1.count }
            progress(String(format: "tokenized %d documents: %d tokens in %.1f s", documents.count, count,
                            Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            let cut = windows.windows(documents: documents, tokens: tokens) {
                String(decoding: tokenizer.bytes(for: $0), as: UTF8.self)
            }
            if cut.isEmpty {
                throw StoreError.badWindowing(reason: "\(path): no windows: every document has fewer than \(windows.minWindow) tokens (the shortest window)")
            }
            let encoding = "{\"addSpecial\":\(addSpecial),\"context\":\(windows.context),"
                + "\"minWindow\":\(windows.minWindow),\"parseSpecial\":\(parseSpecial),\"windows\":\"corpus\"}"
            return Input(name: (path as NSString).lastPathComponent, source: path, encoding: encoding, prompts: cut,
                         documents: documents.count)
        }
    }

    /// What a run did.
    public struct Outcome: Sendable {
        public var captureID: Int64
        /// Prompts (windows) in the dataset.
        public var datasetPrompts: Int
        public var progress: Capturer.Progress
    }

    /// Resolves every prompt's positions (so a bad prompt fails before the store is
    /// touched), registers the model, dataset and capture, and captures what is not stored.
    /// - Throws: ``StoreError`` for a position that does not fit a prompt, a store made with
    ///   another model, or SQLite failures; ``ModelError`` from the pass.
    public func run(_ input: Input, model: LoadedModel, progress: (Capturer.Progress) -> Void = { _ in }) throws -> Outcome {
        let context = model.config.contextLength
        if let long = input.prompts.first(where: { $0.tokens.count > context }) {
            throw StoreError.badPromptFile(path: input.source, line: long.record.line,
                                           reason: "\(long.tokens.count) tokens, longer than the model's context of \(context) tokens")
        }
        if let empty = input.prompts.first(where: { $0.tokens.isEmpty }) {
            throw StoreError.badPromptFile(path: input.source, line: empty.record.line, reason: "no tokens: nothing to capture")
        }
        let kept = try input.prompts.map { e in
            try positions.resolve(tokens: e.tokens, subject: e.record.subject, tokenizer: model.tokenizer,
                                  prompt: "\(input.source):\(e.record.line)")
        }
        let identity = try ModelIdentity(of: model)
        try prepareStoreLocation()
        let db = try ActivationStore(path: storePath, create: true)
        let modelID = try db.register(identity, allowMismatch: allowModelMismatch)
        let dataset = try db.dataset(name: input.name, source: input.source, encoding: input.encoding,
                                     tokenizerHash: identity.tokenizerHash, prompts: input.prompts)
        let capture = try db.capture(model: modelID, dataset: dataset.id, hooks: hooks.map(\.name),
                                     positions: positions.spec, dtype: dtype)
        try db.recordShard(shard.map { CaptureShardPlan(shard: $0, batchSize: batchSize, batchTokens: batchTokens, maxTokens: maxTokens) },
                           capture: capture.id)
        let capturer = Capturer(model: model.transformer, store: db, capture: capture, batchSize: batchSize,
                                batchTokens: batchTokens)
        let p = try capturer.run(prompts: dataset.prompts, positions: kept, maxTokens: maxTokens, shard: shard ?? .whole, report: progress)
        return Outcome(captureID: capture.id, datasetPrompts: dataset.prompts.count, progress: p)
    }

    /// Creates the store's folder and, with ``overwrite``, removes an existing store (a file
    /// that is not a Loupe store is never deleted).
    func prepareStoreLocation() throws {
        let fm = FileManager.default
        let folder = (storePath as NSString).deletingLastPathComponent
        if !folder.isEmpty && !fm.fileExists(atPath: folder) {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        guard overwrite, fm.fileExists(atPath: storePath) else { return }
        do { _ = try ActivationStore(path: storePath) }
        for path in [storePath, storePath + "-wal", storePath + "-shm"] where fm.fileExists(atPath: path) {
            try fm.removeItem(atPath: path)
        }
    }
}
