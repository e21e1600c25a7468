import Analyses
import ArgumentParser
import Foundation
import Store

extension Loupe.SAE {
    /// `loupe sae eval`: an SAE's reconstruction in place of the activation, in the model's forward pass.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Evaluate an SAE inside the forward pass on held-out text, with SAELens's metrics.",
            discussion: """
            The SAE's reconstruction replaces the activation at its hook (cfg.json \
            metadata.hook_name, or --hook) while the model reads the text; SAELens's \
            definitions (sae_lens/evals.py), so numbers compare:
              ce_loss_score   (CE zero-ablated - CE with SAE) / (CE zero-ablated - CE clean), \
            next-token cross-entropy; also against mean ablation (the activation replaced by its \
            mean over the evaluated tokens)
              kl_div_score    (KL ablated - KL with SAE) / KL ablated, KL of each run's next-token \
            distribution from the clean one (zero and mean ablation)
              explained_variance (1 - Σ|x - x̂|² / Σ|x - mean x|², over all evaluated tokens), mse \
            (per element), cossim, l2_ratio (|x̂|/|x|), relative_reconstruction_bias (mean |x̂|² / \
            mean x·x̂; below 1 is shrinkage), l0, l1, dead latents (never fired here) and dense \
            latents (firing on more than --dense-threshold of the tokens)

            Position 0 (the attention sink: its norm is ~100x the others, and `loupe sae train` \
            leaves it out) stays untouched in every replaced run and out of every metric; \
            --include-position-0 replaces and measures it too. CE scores the predictions made at \
            the evaluated positions; KL every evaluated position.

            Text: --corpus FILE --context N cuts documents into N-token windows as `loupe capture \
            --corpus` does (same --min-window, --add-special); --prompts FILE (.txt, .jsonl, .tsv) \
            gives one sequence per prompt; both may be given (corpus windows first). \
            --skip-tokens S leaves out the leading sequences covering S tokens (the part an SAE \
            was trained on), then whole sequences are taken up to the one reaching --max-tokens \
            (default 16384).

            Cost: one pass up to the hook's block (for the mean; it keeps the residual stream \
            entering that block, 2.3 KB per token for d_model 576, up to 1 GiB), then per batch a \
            clean pass and three replaced passes (SAE, zero, mean) resumed at that block, each \
            unembedding every position: about (L+1)/n + 4(n-L)/n forward passes per token at \
            block L of n (2.5 at block 15 of 30; beyond 1 GiB of residuals the clean pass runs \
            whole, one more pass's lower part). Logits of a batch take --batch-tokens x \
            vocabulary x 4 bytes (200 MB for 1024 tokens of SmolLM2), twice.

            Transcoders (cfg.json architecture *transcoder, metadata.hook_name_out): the \
            transcoder reads its input hook (e.g. blocks.8.mlp.hook_in) and its prediction replaces \
            the output hook (--target-hook, default metadata.hook_name_out, e.g. \
            blocks.8.hook_mlp_out) in the same forward pass; zero and mean ablation replace the \
            output hook; explained variance, mse and cossim compare the prediction with the real \
            output. Example: loupe sae eval --sae tc-l8 --prompts held-out.txt

            --out-dir DIR writes sae-eval.json and feature_density.csv (per latent: rows fired \
            on, density, dead, dense). Progress lines go to stderr.

            Example: loupe sae eval --sae sae-l15 --corpus english.jsonl --context 128 --skip-tokens 1000000 --max-tokens 32768

            Shards: with --shard I/N (or a job array's variables, see --shard) a process runs the \
            mean pass over all the selected text (the mean-ablation row is the whole text's mean), \
            then evaluates the batches b (as --batch-size and --batch-tokens cut the sequences) \
            with b mod N = I, saving each batch's sums (not averages) to \
            OUTDIR-shard-I-of-N/shard.json (default reports/sae-eval-<sae folder>-shard-I-of-N; a \
            rerun resumes). `loupe report merge OUT DIRS...` adds the sums in batch order, as one \
            process does, and recomputes every metric from them: OUT gets the single run's \
            sae-eval.json and feature_density.csv. Example:
              loupe sae eval --sae sae-l15 --prompts held-out.txt --out-dir reports/ev --shard 0/2
              loupe sae eval --sae sae-l15 --prompts held-out.txt --out-dir reports/ev --shard 1/2
              loupe report merge reports/ev reports/ev-shard-0-of-2 reports/ev-shard-1-of-2
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var prompt: PromptOptions
        @Option(help: "The SAE folder (SAELens layout).") var sae: String
        @Option(help: "The hook point to evaluate at (default: the SAE's metadata.hook_name; a transcoder's input hook).") var hook: String?
        @Option(name: .customLong("target-hook"), help: "A transcoder's output hook, replaced by its prediction (default: metadata.hook_name_out).")
        var targetHook: String?
        @Option(help: "Corpus file: .jsonl (\"text\" per line) or .txt (blank-line separated documents); needs --context.")
        var corpus: String?
        @Option(help: "Tokens per corpus window.") var context: Int?
        @Option(help: "Fewest document tokens a last, partial corpus window may have (default: a full window).") var minWindow: Int?
        @Option(help: "Prompt file: .txt, .jsonl or .tsv, one sequence per prompt.") var prompts: String?
        @Option(help: "Leave out the leading sequences covering this many tokens.") var skipTokens = 0
        @Option(help: "Evaluate whole sequences up to the one reaching this many tokens.") var maxTokens = 16384
        @Flag(name: .customLong("include-position-0"), help: "Replace and measure position 0 (the attention sink) too.")
        var includePosition0 = false
        @Option(help: "Most sequences per forward pass.") var batchSize = 32
        @Option(help: "Most tokens per forward pass.") var batchTokens = 1024
        @Option(help: "A latent firing on more than this share of the tokens is dense.") var denseThreshold = 0.1
        @Option(help: "Also write sae-eval.json and feature_density.csv into this folder.") var outDir: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func validate() throws {
            if corpus == nil && prompts == nil { throw ValidationError("give the text: --corpus FILE --context N and/or --prompts FILE") }
            if corpus != nil && context == nil { throw ValidationError("--corpus needs --context N (tokens per window)") }
            if corpus == nil && (context != nil || minWindow != nil) { throw ValidationError("--context and --min-window apply to --corpus only") }
            if corpus != nil && prompt.chat { throw ValidationError("--chat does not apply to --corpus") }
            if batchSize < 1 || batchTokens < 1 { throw ValidationError("--batch-size and --batch-tokens must be at least 1") }
            if maxTokens < 1 || skipTokens < 0 { throw ValidationError("--max-tokens must be at least 1 and --skip-tokens at least 0") }
            if !(denseThreshold >= 0 && denseThreshold <= 1) { throw ValidationError("--dense-threshold must be between 0 and 1, not \(denseThreshold)") }
        }

        func run() throws {
            let (model, metadata) = try SAEFolder.load(sae)
            let m = try modelOptions.load()
            guard let hookName = hook ?? (metadata.hookName.isEmpty ? nil : metadata.hookName) else {
                throw ValidationError("\(sae)/cfg.json names no hook (metadata.hook_name); give --hook")
            }
            let point = try m.config.hookPoint(named: hookName)
            let target = try (targetHook ?? (model.isTranscoder ? metadata.hookNameOut : nil)).map(m.config.hookPoint(named:))
            try SAEEvaluation.check(model, hook: point, target: target, config: m.config)
            if !metadata.modelName.isEmpty && metadata.modelName.lowercased() != m.config.name.lowercased() {
                Console.progress("warning: \(sae) was trained on \(metadata.modelName), this model is \(m.config.name)")
            }
            var sequences: [[Int]] = []
            if let corpus {
                let windows = try CorpusWindows(context: context!, maxContext: m.config.contextLength, minWindow: minWindow,
                                                bos: prompt.addSpecial && m.tokenizer.spec.addBOS ? m.tokenizer.bosID : nil,
                                                eos: prompt.addSpecial && m.tokenizer.spec.addEOS ? m.tokenizer.eosID : nil)
                sequences += try CaptureJob.Input.corpus(try CorpusFile.read(corpus), path: corpus, windows: windows, addSpecial: prompt.addSpecial,
                                                         parseSpecial: !prompt.noParseSpecial, tokenizer: m.tokenizer,
                                                         progress: Console.progress).prompts.map(\.tokens)
            }
            if let prompts {
                sequences += try CaptureJob.Input.prompts(try PromptFile.read(prompts), path: prompts, encoding: prompt.encoding,
                                                          tokenizer: m.tokenizer).prompts.map(\.tokens)
            }
            let selected = SAEEvaluation.select(sequences, skipTokens: skipTokens, maxTokens: maxTokens)
            if selected.isEmpty { throw ValidationError("--skip-tokens \(skipTokens) leaves none of the \(sequences.count) sequences to evaluate") }
            var config = SAEEvaluationConfig(hook: point, targetHook: target, includesPosition0: includePosition0)
            (config.batchSize, config.batchTokens, config.denseThreshold) = (batchSize, batchTokens, denseThreshold)
            if let (shard, source) = try shardOptions.resolved() { return try evalShard(shard, source: source, model, m, selected, config) }
            Console.progress("evaluating \(model.architecture) SAE \(sae) at \(point.name) on \(selected.count) sequences, "
                             + "\(selected.reduce(0) { $0 + $1.count }) tokens")
            let result = try SAEEvaluation.run(model, model: m.transformer, sequences: selected, config: config) { p in
                Console.progress(String(format: "%@ %d/%d tokens, %.0f tokens/s", p.stage, p.tokens, p.totalTokens, Double(p.tokens) / max(p.seconds, 1e-9))
                                 + (p.ceLossScore.map { ", ce_loss_score so far \(fmt($0))" } ?? ""))
            }
            if let outDir { for file in try result.write(to: outDir) { Console.progress("wrote \(file)") } }
            if format == .json { return try Console.json(result) }
            for line in Self.lines(result, sae: sae) { Console.out(line) }
        }

        /// The text output: what was evaluated, the metrics table, the latents.
        static func lines(_ r: SAEEvaluationResult, sae: String) -> [String] {
            var out = ["\(r.architecture)\(r.architecture.hasSuffix("transcoder") ? "" : " SAE") \(sae) (d_in \(r.dIn), d_sae \(r.dSAE)) at \(r.hook)",
                       "\(r.sequences) sequences: \(r.tokens) activation rows, \(r.cePredictions) next-token predictions, \(r.klPositions) KL positions",
                       r.includesPosition0 ? "position 0 replaced and measured (--include-position-0)"
                           : "position 0 (the attention sink) left untouched in every run and out of every metric", ""]
            var group = ""
            for row in r.table {
                if row.group != group { out.append(row.group); group = row.group }
                out.append("  " + row.name.padding(toLength: 30, withPad: " ", startingAt: 0) + (row.value.map(fmt) ?? "n/a (no ablation effect)"))
            }
            out.append("")
            out.append("dead latents: \(r.deadLatents) of \(r.dSAE); dense latents (firing on more than \(r.denseThreshold) of the rows): \(r.denseLatents)")
            return out
        }
    }
}
