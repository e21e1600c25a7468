import Analyses
import ArgumentParser

extension SAEFormat: ExpressibleByArgument {}

extension Loupe.SAE {
    /// `loupe sae convert`: an SAE folder from SAELens's layout to sparsify's, or back.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert an SAE folder between SAELens's layout (Loupe's) and EleutherAI sparsify's.",
            discussion: """
            --from is an SAE folder in either layout (told apart by its weights file): SAELens's \
            cfg.json + sae_weights.safetensors (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, \
            b_dec, ...), as `loupe sae train` writes, or sparsify's cfg.json + sae.safetensors \
            (encoder.weight [d_sae, d_in], encoder.bias, W_dec [d_sae, d_in], b_dec, W_skip with \
            skip_connection). --to is a new or empty folder, written in --format (saelens or \
            sparsify). The weights are copied, transposed where the layouts differ, never \
            recomputed: a round trip gives the same bits and the same encodings.

            sparsify knows TopK SAEs and transcoders only (activation topk; its groupmax has no \
            Loupe equivalent): converting a standard, jumprelu, batchtopk or matryoshka SAE to \
            sparsify is refused. Loupe writes the hook, model and training notes into sparsify's \
            cfg.json as loupe_metadata, which sparsify ignores and Loupe reads back. Any Loupe \
            command that takes --sae also reads a sparsify folder directly.

            Example: loupe sae convert --from sae-l15 --to sae-l15-sparsify --format sparsify
                     loupe sae convert --from layers.8 --to sae-l8 --format saelens
            """)

        @Option(help: "The SAE folder to read (SAELens or sparsify layout).") var from: String
        @Option(help: "The folder to write (new or empty).") var to: String
        @Option(help: "The layout to write: saelens or sparsify.") var format: SAEFormat

        func run() throws {
            let (sae, from) = try SAEConversion.convert(from: self.from, to: to, format: format)
            Console.out("converted \(sae.architecture) \(sae.isTranscoder ? "transcoder" : "SAE") d_in \(sae.width) d_sae \(sae.latents) "
                        + "from \(from.rawValue) (\(self.from)) to \(format.rawValue): wrote \(to)")
        }
    }
}
