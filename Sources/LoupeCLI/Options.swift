import ArgumentParser
import Foundation
import Linalg
import Models
import Store
import Tokenizers

/// `--model PATH`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A .gguf file or a Hugging Face folder (config.json + safetensors + tokenizer.json).",
        discussion: "Defaults to $LOUPE_MODEL, else the SmolLM2-135M-Instruct GGUF in ~/.cache/loupe/models.",
        valueName: "path"))
    var model: String?

    @Option(name: .long, help: "OpenBLAS threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp(
        "How matrix weights are held: native (in the GGUF file's block format) or f32.",
        discussion: "native reads Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F16 and BF16 matrices in place from the mapped file (activations stay float32; results equal f32's up to summation order; the kernels use AVX2/FMA where the CPU has them, LOUPE_KERNELS=generic forces the baseline ones); f32 dequantizes every weight at load, the exact path (560 MB instead of 60 MB resident for the default model). Safetensors checkpoints load as f32 either way. Default: $LOUPE_WEIGHTS, else native. Example: loupe generate --weights f32 \"The capital of France is\"",
        valueName: "native|f32"))
    var weights: WeightFormat?

    /// Most OpenBLAS threads accepted (OpenBLAS itself caps at its build's limit).
    static let maxThreads = 1024

    func validate() throws {
        if let threads, !(1...Self.maxThreads).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maxThreads), not \(threads)")
        }
    }

    /// Loads the model, reporting progress on stderr.
    func load() throws -> LoadedModel { try Self.load(model, threads: threads, weights: weights) }

    /// Loads the model at `model` (nil: the default model), reporting progress on stderr;
    /// `threads` sets OpenBLAS's thread count first; `weights` (nil: ``WeightFormat/default``)
    /// says how matrices are held.
    static func load(_ model: String?, threads: Int? = nil, weights: WeightFormat? = nil) throws -> LoadedModel {
        if let threads { BLAS.setThreadCount(threads) }
        let path = model ?? ModelLoader.defaultModelPath
        if !FileManager.default.fileExists(atPath: path) {
            throw ValidationError(model == nil
                ? "default model not found at \(path); run scripts/setup.sh (or set LOUPE_MODEL / --model)"
                : "model not found: \(path)")
        }
        Console.progress("loading \(path)")
        let loaded = try ModelLoader.load(path: path, weights: weights ?? .default)
        Console.progress(String(format: "loaded %@ (%@, %d layers) in %.2f s", loaded.config.name,
                                loaded.config.architecture, loaded.config.nLayers, loaded.loadSeconds))
        return loaded
    }
}

extension WeightFormat: ExpressibleByArgument {}

/// `--format text|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// How prompt text becomes token ids: special-token parsing and the chat template.
struct PromptOptions: ParsableArguments {
    @Flag(name: .long, help: "Wrap the text as a user message in the model's chat template.")
    var chat = false

    @Flag(name: .long, help: "Treat special-token text such as <|im_end|> as plain text.")
    var noParseSpecial = false

    @Flag(name: .long, help: "Add the tokenizer's BOS/EOS tokens as the model file asks.")
    var addSpecial = false

    /// These options as the library's prompt encoding.
    var encoding: PromptEncoding {
        PromptEncoding(chat: chat, parseSpecial: !noParseSpecial, addSpecial: addSpecial)
    }

    /// The token ids for `text` under these options.
    func encode(_ text: String, with model: LoadedModel) throws -> [Int] {
        try encoding.encode(text, with: model.tokenizer)
    }
}

/// `--shard I/N`: run part I (from 0) of a job split over N processes.
struct ShardOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Run shard I of N (I from 0) of the job: the items whose index mod N is I.",
        discussion: "Without it, LOUPE_SHARD=I/N, Slurm's SLURM_ARRAY_TASK_ID/_COUNT (from SLURM_ARRAY_TASK_MIN) or Kubernetes' JOB_COMPLETION_INDEX with LOUPE_SHARD_COUNT are read when set. Merge the shards' folders with `loupe report merge`.",
        valueName: "I/N"))
    var shard: String?

    func validate() throws {
        if let shard { _ = try Shard(parsing: shard) }
    }

    /// The shard asked for by the flag, else by a job runner's environment, with where it
    /// came from; nil for an unsharded run.
    func resolved() throws -> (shard: Shard, source: String)? {
        if let shard { return (try Shard(parsing: shard), "--shard") }
        return try Shard.fromEnvironment()
    }
}
