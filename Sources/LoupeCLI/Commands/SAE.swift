import Analyses
import ArgumentParser

extension SAEArchitecture: ExpressibleByArgument {}
extension SAEDecoderBiasInit: ExpressibleByArgument {}

extension Loupe {
    /// `loupe sae train|encode|eval`: sparse autoencoders.
    struct SAE: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sae",
            abstract: "Sparse autoencoders: train one on stored activations, encode rows into its latents, evaluate it in the forward pass, read its features.",
            discussion: """
            An SAE maps a hook point's activation rows (width d_in) to d_sae latents, few of \
            them active per row, and back. Two architectures: standard (ReLU with an L1 penalty \
            weighted by decoder row norms, Anthropic's April 2024 recipe, SAELens `standard`) and \
            topk (Gao et al. 2024: the k largest latents per row, with the auxiliary-k loss on \
            dead latents). Folders use SAELens's layout (cfg.json + sae_weights.safetensors). \
            `sae eval` puts the reconstruction in place of the activation in the real forward \
            pass and reports SAELens's metrics (ce_loss_score, kl_div_score, explained variance, ...). \
            `sae train --corpus` trains from live activations (no store); `sae train-transcoders` \
            trains one MLP transcoder per layer from the same live forward passes. `sae train` \
            checkpoints (--checkpoint-every) and a rerun resumes bit for bit. `sae convert` \
            writes a folder in sparsify's layout (cfg.json + sae.safetensors) or back; every \
            --sae option reads both layouts.

            Example: loupe capture --corpus corpus.jsonl --context 128 --hooks blocks.15.hook_resid_post --store acts.db
                     loupe sae train --store acts.db --hook blocks.15.hook_resid_post --architecture topk --latents 4608 --k 32 --out sae-l15
                     loupe sae encode --sae sae-l15 --input rows.npy --out latents.npy
                     loupe sae eval --sae sae-l15 --corpus corpus.jsonl --context 128 --skip-tokens 1000000
                     loupe sae features --sae sae-l15 --store acts.db --sample 12
                     loupe sae train-transcoders --corpus corpus.jsonl --context 128 --max-tokens 400000 --out tcset
                     loupe sae convert --from sae-l15 --to sae-l15-sparsify --format sparsify
            """,
            subcommands: [Train.self, TrainTranscoders.self, Encode.self, Eval.self, Features.self, Convert.self])
    }
}
