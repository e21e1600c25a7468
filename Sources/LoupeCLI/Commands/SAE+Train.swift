import Analyses
import ArgumentParser
import Cluster
import Formats
import Foundation

extension Loupe.SAE {
    /// `loupe sae train`: an SAE from a store capture or a .npy matrix.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a sparse autoencoder on stored or live activations (or a .npy matrix) and save it in SAELens's layout.",
            discussion: """
            Sources (one of):
              --store S --hook H   one hook of a `loupe capture` store (--capture ID when it \
            holds several), streamed in seeded shuffled order; rows at position 0 (the attention \
            sink) and rows whose norm exceeds --outlier-factor times the median are left out and counted
              --input X.npy        a [rows, d_in] float matrix
              --corpus F --context N --hook H   live activations: the corpus's N-token windows \
            (as `loupe capture --corpus` cuts them; the leading ones up to --max-tokens) run \
            through the model (--model) --windows-per-pass at a time, and the hook's rows (and \
            --target-hook's) go into a seeded shuffle buffer of --buffer-rows rows (default \
            16384) that batches are drawn from at random; nothing is written to disk, memory is \
            bounded by the buffer. Position 0 and outliers are left out and counted as with \
            --store. --tokens defaults to one pass over the windows' rows; a longer budget runs \
            the windows again in a new order.

            Architectures (--architecture):
              standard    ReLU, loss MSE + --l1 x sum_i f_i |W_dec,i| (Anthropic, April 2024)
              topk        the --k largest activations per row, decoder rows at unit norm, the \
            auxiliary-k loss on dead latents (Gao et al. 2024)
              jumprelu    f = pre where pre > a learned per-latent threshold (Rajamanoharan et \
            al. 2024); loss MSE + --l0-coefficient x L0, the threshold trained in log space with \
            straight-through rectangle-kernel gradients of width --bandwidth, starting at \
            --initial-threshold (SAELens defaults: 1, 0.001, 0.001)
              batchtopk   the k x rows largest activations of the whole batch (k per row on \
            average; Bussmann et al. 2024), auxiliary-k loss as topk; a global threshold tracks \
            the smallest kept activation, and the saved SAE is a JumpReLU with that threshold
              matryoshka  Matryoshka BatchTopK (Bussmann et al. 2025): batchtopk plus, for every \
            prefix width of --matryoshka-widths (default d_sae/16,/8,/4,/2,d_sae), the squared \
            error of that prefix reconstructing alone; saved like batchtopk
            jumprelu, batchtopk and matryoshka are saved as SAELens's `jumprelu` with a \
            `threshold` tensor [d_sae] (metadata.trained_architecture names what was trained).

            Training: Adam, learning rate warmed up over --warmup-steps and decayed linearly to 0 \
            over the last 20% of steps; the L1 (or L0) coefficient warmed up over the first 5%; b_dec \
            starts at the first batch's mean (--b-dec-init mean, the default), its geometric median \
            (geometric-median: Weiszfeld iterations in double precision, at most 100, stopping when \
            the summed distance improves by at most 1e-12 of itself; SAELens's b_dec_init_method \
            geometric_median) or zero (zeros). --tokens rows are used in all (passes repeat in new \
            orders). A latent is dead when it has not fired in the last --dead-window rows \
            (default: a fifth of the budget, at most 1,000,000). Progress lines report loss, L0, \
            explained variance (1 - squared error / variance of the rows) and the dead fraction.

            Transcoders (--target-hook): the same architectures trained to map the --hook \
            activation x to the --target-hook activation y of the same stored rows, loss \
            |y - (f(x) W_dec + b_dec (+ x W_skipᵀ))|² + sparsity; the input is not centred by \
            b_dec (SAELens's transcoders), b_dec starts at the targets' mean. --skip adds a linear \
            skip term W_skip [d_out, d_in], from zero (--skip-init data: from the ridge least-squares \
            fit of the first batch's targets on its inputs, b_dec at the fit's intercept; use a \
            batch well above d_in). For an MLP: --hook blocks.L.mlp.hook_in (the \
            MLP's input: ln2's output after its weight, circuit-tracer's hook) --target-hook \
            blocks.L.hook_mlp_out; capture both in one run (`loupe capture --hooks \
            blocks.8.mlp.hook_in,blocks.8.hook_mlp_out`). Position 0 and outliers are judged on \
            the input rows and the same rows left out of the targets. Saved as SAELens's \
            transcoder, skip_transcoder or jumprelu_(skip_)transcoder (TopK: Loupe's \
            topk_transcoder) with d_out, metadata.hook_name_out and circuit-tracer's \
            feature_input_hook / feature_output_hook; the d_out = d_in case only.

            Checkpoints (--checkpoint-every N, default 500 steps; 0: none): every N steps \
            DIR/training-checkpoint.safetensors is written atomically (a temporary file in DIR, \
            synced, renamed over the last one) with everything the run needs to continue: the \
            weights, Adam's moments and step counts, the dead-latent counters, the BatchTopK \
            threshold, the pass and position in the data (a store's shuffled order is fixed by the \
            seed; --corpus's shuffle buffer and its generator are saved, so no forward pass is \
            repeated) and the options. Rerunning the same command after an interruption resumes \
            from the checkpoint (it says so) and ends with the same weights, bit for bit, as a run \
            never interrupted (same machine and thread count). A rerun with different options is \
            refused, naming the first option that differs; delete the checkpoint to start over. The \
            checkpoint is removed once the SAE is written.

            Across processes (MPI): under `mpirun -np N` or `srun` (detected from \
            OMPI_COMM_WORLD_SIZE or PMIX_RANK, or forced with --mpi) training is data-parallel. \
            Every rank opens the same --store or --input, reads every batch in the same seeded \
            order and computes the loss and gradient of its block of the batch's rows (rank r \
            of N: rows r*B/N ..< (r+1)*B/N of a batch of B = --batch-size rows); the gradients \
            are summed over the ranks in double precision (BatchTopK's and Matryoshka's \
            selection sums its histograms, so it keeps the k*B largest of the whole batch), and \
            every rank takes the same Adam step. The result equals one process's up to the \
            order of summation. Rank 0 prints progress, writes checkpoints (resuming works as \
            above, the file on a shared file system) and the SAE. Ranks started with different \
            options or data are refused; --corpus (live activations) is not distributed: capture \
            a store first. Every rank reads every row, so the speed-up is in the SAE's \
            arithmetic, not the reading; give each rank its own cores (OPENBLAS_NUM_THREADS).

            Output: DIR/cfg.json and DIR/sae_weights.safetensors.

            Example:
              loupe sae train --store acts.db --hook blocks.15.hook_resid_post --architecture \
            matryoshka --latents 4608 --k 32 --matryoshka-widths 288,1152,4608 --out sae-l15
              loupe sae train --store mlp8.db --hook blocks.8.mlp.hook_in --target-hook \
            blocks.8.hook_mlp_out --latents 4608 --k 32 --out tc-l8
              loupe sae train --input rows.npy --latents 4608 --k 32 --b-dec-init geometric-median \
            --checkpoint-every 200 --out sae-rows   (interrupted? the same command again resumes)
              OPENBLAS_NUM_THREADS=1 mpirun -np 4 loupe sae train --store acts.db --hook \
            blocks.15.hook_resid_post --latents 4608 --k 32 --out sae-l15
              loupe sae train --corpus english.jsonl --context 128 --max-tokens 300000 --hook \
            blocks.8.mlp.hook_in --target-hook blocks.8.hook_mlp_out --skip --latents 2304 --out tc-l8
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @OptionGroup var live: LiveCorpusOptions
        @Option(help: "An activation store made by `loupe capture`.") var store: String?
        @Option(help: "With --store or --corpus: the hook point to train on, e.g. blocks.15.hook_resid_post.") var hook: String?
        @Option(name: .customLong("target-hook"), help: "With --store or --corpus: train a transcoder whose output reconstructs this hook, e.g. blocks.8.hook_mlp_out.")
        var targetHook: String?
        @Flag(help: "Transcoders: add a linear skip term W_skip (SAELens SkipTranscoder).") var skip = false
        @Option(name: .customLong("skip-init"), help: "With --skip: start W_skip at zero or at the least-squares fit of the first batch (data).")
        var skipInit: SkipInit = .zero
        @Option(help: "Capture id in --store (default: the only one).") var capture: Int64?
        @Option(help: "A [rows, d_in] .npy matrix to train on instead of a store.") var input: String?
        @Option(help: "standard, topk, jumprelu, batchtopk or matryoshka.") var architecture: SAEArchitecture = .topk
        @Option(help: "Number of latents (d_sae).") var latents: Int
        @Option(help: "topk: active latents per row; batchtopk, matryoshka: per row on average over a batch.") var k: Int = 32
        @Option(help: "standard: the L1 coefficient (after warm-up).") var l1: Float = 5
        @Option(name: .customLong("l0-coefficient"), help: "jumprelu: the L0 coefficient (after warm-up).") var l0Coefficient: Float = 1
        @Option(help: "jumprelu: bandwidth of the threshold's straight-through kernel.") var bandwidth: Float = 0.001
        @Option(name: .customLong("initial-threshold"), help: "jumprelu: every latent's starting threshold.") var initialThreshold: Float = 0.001
        @Option(name: .customLong("matryoshka-widths"), help: "matryoshka: comma-separated prefix widths, increasing, the first >= k (default: d_sae/16,/8,/4,/2,d_sae; d_sae is appended if missing).")
        var matryoshkaWidths: String?
        @Option(help: "Adam's learning rate (peak).") var lr: Float = 4e-4
        @Option(name: .customLong("batch-size"), help: "Rows per step.") var batchSize: Int = 4096
        @Option(help: "Rows to train on in all (default 1,000,000; with --corpus one pass over the windows' rows).") var tokens: Int?
        @Option(name: .customLong("warmup-steps"), help: "Learning-rate warm-up steps.") var warmupSteps: Int = 0
        @Option(name: .customLong("dead-window"), help: "Rows without firing after which a latent counts as dead.") var deadWindow: Int?
        @Option(name: .customLong("outlier-factor"), help: "With --store or --corpus: leave out rows above this multiple of the median norm.") var outlierFactor: Float = 10
        @Option(help: "Seed of the initialization and the shuffling.") var seed: UInt64 = 0
        @Option(name: .customLong("progress-every"), help: "Steps between progress lines.") var progressEvery: Int = 50
        @Option(name: .customLong("b-dec-init"), help: "Where b_dec starts: mean, geometric-median or zeros (of the first batch).")
        var bDecInit: SAEDecoderBiasInit = .mean
        @Option(name: .customLong("checkpoint-every"), help: "Steps between training checkpoints in --out (0: none); a rerun resumes from one.")
        var checkpointEvery: Int = 500
        @Option(name: .customLong("stop-after"), help: .hidden) var stopAfter: Int?
        @Option(help: "The SAE folder to write.") var out: String
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @Flag(help: "Train across the ranks of an MPI job (implied when mpirun or srun started the process); see the discussion.") var mpi = false

        func validate() throws {
            guard [store, input, live.corpus].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give one source: --store with --hook, --corpus with --context and --hook, or --input X.npy")
            }
            if (store == nil && live.corpus == nil) != (hook == nil) { throw ValidationError("--hook goes with --store or --corpus, and they need it") }
            if capture != nil && store == nil { throw ValidationError("--capture goes with --store") }
            if outlierFactor <= 0 { throw ValidationError("--outlier-factor must be positive") }
            if targetHook != nil && hook == nil { throw ValidationError("--target-hook goes with --store or --corpus and --hook") }
            if skip && targetHook == nil { throw ValidationError("--skip goes with --target-hook (a transcoder)") }
            if matryoshkaWidths != nil && architecture != .matryoshka { throw ValidationError("--matryoshka-widths goes with --architecture matryoshka") }
            if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 (none) or positive, not \(checkpointEvery)") }
        }

        /// The training configuration the options give.
        func makeConfig(tokens: Int) throws -> SAETrainingConfig {
            var config = SAETrainingConfig(architecture: architecture, latents: latents, k: k, l1Coefficient: l1, learningRate: lr,
                                           batchSize: batchSize, tokens: tokens, seed: seed, warmupSteps: warmupSteps,
                                           deadWindow: deadWindow ?? max(1, min(1_000_000, tokens / 5)), progressEvery: progressEvery,
                                           l0Coefficient: l0Coefficient, bandwidth: bandwidth, initialThreshold: initialThreshold,
                                           matryoshkaWidths: try matryoshkaWidths.map(MatryoshkaSAE.parseWidths))
            (config.skip, config.skipFromData, config.bDecInit) = (skip, skip && skipInit == .data, bDecInit)
            return config
        }

        /// Checkpointing into --out (created here), saying when a run resumes.
        func checkpointing() throws -> SAECheckpointing {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            return SAECheckpointing(path: out + "/" + SAECheckpoint.fileName, every: checkpointEvery, stopAfter: stopAfter) { step, steps in
                Console.progress("resuming from \(out)/\(SAECheckpoint.fileName) at step \(step)/\(steps)")
            }
        }

        /// Trains from live corpus activations (--corpus); the metadata gains the hooks, model and context.
        func trainLive(report: (SAEProgress) -> Void, metadata: SAEMetadata) throws -> (SAETrainingResult, SAEMetadata) {
            let m = try modelOptions.load()
            let (windows, _) = try live.windows(m, prompt: prompt)
            let point = try m.config.hookPoint(named: hook!), target = try targetHook.map(m.config.hookPoint(named:))
            var source = try LiveSource(model: m.transformer, windows: windows, hook: point, targetHook: target, bufferRows: live.bufferRows,
                                        windowsPerPass: live.windowsPerPass, seed: seed, outlierFactor: outlierFactor)
            let config = try makeConfig(tokens: tokens ?? source.activations.rowsPerPass)
            Console.progress("training \(architecture.rawValue) \(targetHook == nil ? "SAE" : "transcoder") (\(latents) latents) on \(point.name)"
                             + (target.map { " -> \($0.name)" } ?? "") + " live: \(source.activations.rowsPerPass) rows per pass, \(config.tokens) in all")
            let result = try SAETrainer.train(source: &source, config: config, checkpoint: checkpointing(), progress: report)
            Console.progress(String(format: "forward passes: %.1f s for %d tokens", source.activations.forwardSeconds, source.activations.forwardTokens))
            var metadata = metadata
            (metadata.hookName, metadata.modelName, metadata.hookNameOut, metadata.contextSize) = (point.name, m.config.name, target?.name, live.context!)
            metadata.extra["tokens"] = String(config.tokens)
            metadata.extra["corpus"] = live.corpus!
            return (result, metadata)
        }

        func run() throws {
            try Communicator.runCommand(forced: mpi) { try train($0) }
        }

        /// Trains over `communicator`'s ranks; rank 0 writes the SAE and prints.
        func train(_ communicator: Communicator) throws {
            let config = try makeConfig(tokens: tokens ?? 1_000_000)
            let lead = communicator.rank == 0, ranks = communicator.size > 1 ? " over \(communicator.size) MPI ranks" : ""
            let say = { (line: String) in if lead { Console.progress(line) } }
            let report: (SAEProgress) -> Void = { p in
                Console.progress("step \(p.step)/\(p.steps)  tokens \(p.tokens)  loss \(fmt(p.loss))  L0 \(fmt(p.l0))  "
                                 + "explained variance \(fmt(p.explainedVariance))  dead \(fmt(p.deadFraction))  \(Int(p.tokensPerSecond)) tokens/s")
            }
            let result: SAETrainingResult
            var metadata = SAEMetadata(extra: ["trained_with": "loupe \(Loupe.version)", "seed": String(seed), "tokens": String(config.tokens)])
            try communicator.agreeOnErrors {
                guard live.corpus != nil, communicator.size > 1 else { return }
                throw ValidationError("--corpus computes activations in this process; under MPI every rank would run the same forward passes. Capture a store (`loupe capture --corpus`) and train on it with --store")
            }
            if live.corpus != nil {
                (result, metadata) = try trainLive(report: report, metadata: metadata)
            } else if let store, let hook {
                var source = try communicator.agreeOnErrors {
                    try StoreSource(store: store, capture: capture, hook: hook, targetHook: targetHook, seed: seed, outlierFactor: outlierFactor)
                }
                say("training \(architecture.rawValue) \(targetHook == nil ? "SAE" : "transcoder") (\(latents) latents) on \(hook)"
                    + (targetHook.map { " -> \($0)" } ?? "") + ": \(source.rowCount) stored rows of width \(source.width)\(ranks)")
                let saving = try communicator.agreeOnErrors { try checkpointing() }
                result = try SAETrainer.train(source: &source, config: config, checkpoint: saving, communicator: communicator, progress: report)
                (metadata.hookName, metadata.modelName, metadata.hookNameOut) = (hook, source.modelName, targetHook)
            } else {
                var source = try communicator.agreeOnErrors { try MatrixSource(try NumPyArray.read(path: input!), seed: seed) }
                say("training \(architecture.rawValue) SAE (\(latents) latents) on \(source.matrix.shape[0]) rows of width \(source.width)\(ranks)")
                let saving = try communicator.agreeOnErrors { try checkpointing() }
                result = try SAETrainer.train(source: &source, config: config, checkpoint: saving, communicator: communicator, progress: report)
                metadata.extra["input"] = URL(fileURLWithPath: input!).lastPathComponent
            }
            if communicator.size > 1 { metadata.extra["mpi_ranks"] = String(communicator.size) }
            guard lead else { return }
            if let stopped = result.stoppedAfter {
                return Console.out("stopped after step \(stopped)/\(config.steps) (--stop-after); checkpoint in \(out)/\(SAECheckpoint.fileName): rerun to resume")
            }
            try SAEFolder.save(result.sae, metadata: metadata, to: out)
            try SAECheckpoint.remove(at: out + "/" + SAECheckpoint.fileName)
            Console.progress("wrote \(out)")
            try summarize(result)
        }

        /// Prints the final numbers (text or JSON).
        func summarize(_ result: SAETrainingResult) throws {
            let f = result.final
            struct Summary: Encodable {
                let architecture: String; let dIn: Int; let dSAE: Int; let steps: Int; let tokens: Int; let loss: Double; let l0: Double
                let explainedVariance: Double; let deadFraction: Double; let tokensPerSecond: Double; let skipped: [String: Int]; let out: String
                let resumedFrom: Int?
            }
            if format == .json {
                return try Console.json(Summary(architecture: result.sae.architecture, dIn: result.sae.width, dSAE: result.sae.latents, steps: f.steps,
                                                tokens: f.tokens, loss: f.loss, l0: f.l0, explainedVariance: f.explainedVariance,
                                                deadFraction: f.deadFraction, tokensPerSecond: f.tokensPerSecond, skipped: result.skipped, out: out,
                                                resumedFrom: result.resumedFrom))
            }
            Console.progress("\(Int(f.tokensPerSecond)) tokens/s")  // timing on stderr: stdout holds results only
            Console.out("\(result.sae.architecture) \(result.sae.isTranscoder ? "transcoder" : "SAE") d_in \(result.sae.width) d_sae \(result.sae.latents): \(f.steps) steps, \(f.tokens) tokens"
                        + (result.resumedFrom.map { " (resumed from step \($0))" } ?? ""))
            Console.out("since the last progress line: loss \(fmt(f.loss)), L0 \(fmt(f.l0)), explained variance \(fmt(f.explainedVariance)), dead fraction \(fmt(f.deadFraction))")
            for (reason, count) in result.skipped.sorted(by: { $0.key < $1.key }) { Console.out("left out (\(reason)): \(count) rows") }
            Console.out("wrote \(out)")
        }
    }
}
