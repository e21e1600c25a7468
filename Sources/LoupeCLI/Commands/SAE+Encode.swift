import Analyses
import ArgumentParser
import Formats

extension Loupe.SAE {
    /// `loupe sae encode`: rows of activations into an SAE's latents.
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode rows of activations with an SAE into a dense [rows, d_sae] float32 .npy.",
            discussion: """
            --input is a [rows, d_in] .npy (float32, float64 or float16) at the SAE's hook point, \
            e.g. from `loupe store export`; --sae is a folder in SAELens's layout (cfg.json + \
            sae_weights.safetensors), trained by `loupe sae train` or by SAELens (standard, topk). \
            A transcoder encodes rows of its input hook (metadata.hook_name, e.g. \
            blocks.8.mlp.hook_in); its latents are what its decoder writes to the output hook.

            Example: loupe sae encode --sae tc-l8 --input mlp-in.npy --out features.npy
            """)

        @Option(help: "The SAE folder.") var sae: String
        @Option(help: "A [rows, d_in] .npy matrix of activations.") var input: String
        @Option(help: "Where to write the [rows, d_sae] float32 latents.") var out: String
        @Option(name: .customLong("batch-size"), help: "Rows encoded at a time.") var batchSize: Int = 4096

        func validate() throws {
            if batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
        }

        func run() throws {
            let (model, metadata) = try SAEFolder.load(sae)
            let x = try NumPyArray.read(path: input)
            let f = try model.encode(rows: x, batchSize: batchSize, what: input)
            let n = f.shape[0]
            let active = f.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            try NumPyArray.write(f, to: out)
            let hook = metadata.hookName.isEmpty ? "" : " at \(metadata.hookName)"
            Console.out("encoded \(n) rows with \(model.architecture) SAE \(sae)\(hook): d_sae \(model.latents), mean L0 \(fmt(n > 0 ? Double(active) / Double(n) : 0))")
            Console.out("wrote \(out) [\(n), \(model.latents)]")
        }
    }
}
