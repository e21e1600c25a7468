import Analyses
import ArgumentParser
import Foundation

/// Where a transcoder's W_skip starts: zero, or the least-squares fit of the first rows (`SkipFit`).
enum SkipInit: String, ExpressibleByArgument { case zero, data }

extension Loupe.SAE {
    /// `loupe sae train-transcoders`: one transcoder per layer from the same live forward passes.
    struct TrainTranscoders: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-transcoders",
            abstract: "Train a TopK transcoder for every chosen layer's MLP from live corpus activations, one forward pass per batch for all layers.",
            discussion: """
            Each transcoder maps blocks.L.mlp.hook_in (the MLP's input) to blocks.L.hook_mlp_out \
            (its output). The corpus is cut into --context-token windows as `loupe capture --corpus` \
            does; the leading windows up to --max-tokens run through the model in batches of \
            --windows-per-pass, and every batch fills every layer's shuffle buffer (--buffer-rows \
            rows per layer; memory about layers x buffer x 2 x d_model x 4 bytes plus each \
            transcoder's weights and Adam state) from that one pass, nothing written to disk. \
            Position 0 and rows above --outlier-factor times the median input norm are left out \
            and counted. Each layer trains on full batches of its buffer until its rows run out \
            (one pass over the windows).

            The recipe (defaults, measured on SmolLM2-135M; see README "Transcoder sets"): TopK \
            with --latents 2304, --k 32, the linear skip term W_skip (--no-skip to leave it out) \
            started at the ridge least-squares fit of the MLP output on its input over the first \
            buffer of rows, b_dec at the fit's intercept (--skip-init data; zero: W_skip from 0 \
            and b_dec at the first batch's target mean), Adam at --lr 1e-3 (warm-up 20 steps, \
            linear decay over the last 20%), batch 1024, the auxiliary-k loss on latents dead for \
            --dead-window rows (default 100,000).

            After training, the --held-out-tokens windows after the training windows run once \
            more and each layer's explained variance of the MLP output, L0 and never-fired \
            fraction are measured on them (position 0 left out).

            Output (--out DIR): DIR/transcoders.json ({"model", "input_hook": \
            "blocks.{L}.mlp.hook_in", "output_hook": "blocks.{L}.hook_mlp_out", "layers", \
            "training", "metrics" per layer}), DIR/summary.txt, and DIR/layer-<L>/ per layer in \
            SAELens's layout (`sae eval`, `sae features` and `sae encode` read each). A rerun \
            skips layers whose folder is complete (cfg.json and weights), so an interrupted run \
            resumes with the layers left; every --checkpoint-every rounds (default 500; one round \
            is one step of every unfinished layer; 0: none) DIR/training-checkpoint.safetensors \
            is written atomically with every layer's weights, Adam state and counters and the \
            shared shuffle buffers, and a rerun of the same command resumes mid-layer from it, \
            ending with the same layer folders bit for bit (other options are refused by name). What it prints is summary.txt without the wall-clock \
            times (the *_seconds settings and the per-layer seconds), so a rerun prints the same.

            Layers (--layers): all, a range 0-29, or a list 3,8.

            Example:
              loupe sae train-transcoders --corpus english.jsonl --context 128 --max-tokens 400000 \
            --layers all --out tcset
              loupe sae eval --sae tcset/layer-8 --corpus english.jsonl --context 128 \
            --skip-tokens 400000 --max-tokens 4096
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @OptionGroup var live: LiveCorpusOptions
        @Option(help: "Layers: all, A-B, or a comma-separated list.") var layers = "all"
        @Option(help: "Latents per transcoder (d_sae).") var latents = 2304
        @Option(help: "Active latents per row.") var k = 32
        @Flag(inversion: .prefixedNo, help: "Train the linear skip term W_skip.") var skip = true
        @Option(name: .customLong("skip-init"), help: "With the skip term: start W_skip at zero or at the least-squares fit of the first buffer (data).")
        var skipInit: SkipInit = .data
        @Option(help: "Adam's learning rate (peak).") var lr: Float = 1e-3
        @Option(name: .customLong("batch-size"), help: "Rows per step.") var batchSize = 1024
        @Option(name: .customLong("warmup-steps"), help: "Learning-rate warm-up steps.") var warmupSteps = 20
        @Option(name: .customLong("dead-window"), help: "Rows without firing after which a latent is dead (gets the auxiliary-k loss).")
        var deadWindow = 100_000
        @Option(name: .customLong("aux-k"), help: "Latents of the auxiliary-k loss (default d_in / 2).") var auxK: Int?
        @Option(name: .customLong("outlier-factor"), help: "Leave out rows above this multiple of the median input norm.") var outlierFactor: Float = 10
        @Option(name: .customLong("held-out-tokens"), help: "Tokens after the training windows to measure each layer on (0: none).")
        var heldOutTokens = 4096
        @Option(help: "Seed of the initialization and the shuffling.") var seed: UInt64 = 0
        @Option(name: .customLong("progress-every"), help: "Steps between progress lines.") var progressEvery = 50
        @Option(name: .customLong("checkpoint-every"), help: "Rounds of steps (one step per layer) between training checkpoints in --out (0: none); a rerun resumes mid-layer.")
        var checkpointEvery = 500
        @Option(name: .customLong("stop-after"), help: .hidden) var stopAfter: Int?
        @Option(help: "The set's folder.") var out: String
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            guard live.corpus != nil, live.maxTokens != nil else { throw ValidationError("give --corpus FILE --context N --max-tokens T") }
            if heldOutTokens < 0 { throw ValidationError("--held-out-tokens must be at least 0") }
            if outlierFactor <= 0 { throw ValidationError("--outlier-factor must be positive") }
            if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 (none) or positive, not \(checkpointEvery)") }
        }

        /// Checkpointing into --out (created here), saying when a run resumes.
        func checkpointing() throws -> SAECheckpointing {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            return SAECheckpointing(path: out + "/" + SAECheckpoint.fileName, every: checkpointEvery, stopAfter: stopAfter) { round, steps in
                Console.progress("resuming from \(out)/\(SAECheckpoint.fileName) after \(round) rounds (of about \(steps) steps per layer)")
            }
        }

        func run() throws {
            let m = try modelOptions.load()
            let chosen = try TranscoderSetConfig.parseLayers(layers, count: m.config.nLayers)
            let (windows, heldOut) = try live.windows(m, prompt: prompt, heldOutTokens: heldOutTokens)
            let rows = windows.reduce(0) { $0 + max($1.count - 1, 0) }
            var training = SAETrainingConfig(architecture: .topk, latents: latents, k: k, learningRate: lr, batchSize: batchSize,
                                             tokens: max(batchSize, rows / batchSize * batchSize), seed: seed, warmupSteps: warmupSteps,
                                             deadWindow: deadWindow, auxK: auxK, progressEvery: progressEvery)
            (training.skip, training.skipFromData) = (skip, skip && skipInit == .data)
            var config = TranscoderSetConfig(layers: chosen, training: training)
            (config.bufferRows, config.windowsPerPass, config.outlierFactor, config.context) = (live.bufferRows, live.windowsPerPass, outlierFactor, live.context!)
            let settings = ["architecture": "topk", "latents": String(latents), "k": String(k), "skip": String(skip), "skip_init": skip ? skipInit.rawValue : "-", "lr": String(lr),
                            "batch_size": String(batchSize), "warmup_steps": String(warmupSteps), "dead_window": String(deadWindow),
                            "corpus": live.corpus!, "context": String(live.context!), "max_tokens": String(live.maxTokens!),
                            "training_tokens": String(windows.reduce(0) { $0 + $1.count }), "seed": String(seed), "trained_with": "loupe \(Loupe.version)"]
            Console.progress("training \(chosen.count) transcoder(s), \(latents) latents, k \(k)\(skip ? ", W_skip" : ""): about \(training.steps) steps of \(batchSize) rows each")
            let start = Date()
            let set = try TranscoderSetTrainer.train(model: m.transformer, windows: windows, heldOut: heldOut, config: config,
                                                     directory: out, settings: settings, checkpoint: checkpointing()) { p in
                let q = p.progress
                Console.progress("layer \(p.layer) step \(q.step)/\(q.steps)  loss \(fmt(q.loss))  L0 \(fmt(q.l0))  explained variance "
                                 + "\(fmt(q.explainedVariance))  dead \(fmt(q.deadFraction))  forward \(p.forwardTokens) tokens in \(Int(p.forwardSeconds)) s")
            }
            if stopAfter != nil, FileManager.default.fileExists(atPath: out + "/" + SAECheckpoint.fileName) {
                return Console.out("stopped after \(stopAfter!) rounds (--stop-after); checkpoint in \(out)/\(SAECheckpoint.fileName): rerun to resume")
            }
            Console.progress(String(format: "done in %.0f s (forward passes %@ s)", Date().timeIntervalSince(start), set.training["forward_seconds"] ?? "-"))
            if format == .json { return try Console.json(set) }
            for line in set.summary(timings: false) { Console.out(line) }
            Console.out("wrote \(out)/\(TranscoderSetManifest.fileName), \(out)/summary.txt and \(set.layers.count) layer folder(s)")
        }
    }
}
