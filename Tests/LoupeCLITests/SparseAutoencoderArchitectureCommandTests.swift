import Analyses
import Formats
import Foundation
import Linalg
import LoupeCLI
import Testing

@Suite struct SparseAutoencoderArchitectureCommandTests {
    /// `sae train --architecture jumprelu|batchtopk|matryoshka` write SAELens `jumprelu` folders
    /// with a `threshold` [d_sae]; `sae encode` reads them back; bad options are named.
    @Test func trainsEachNewArchitectureIntoAJumpReLUFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-sae-arch-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 4)
        let rows = 512, d = 16
        let x = Tensor(shape: [rows, d], scalars: (0..<(rows * d)).map { _ in rng.nextGaussian() })
        let input = dir.appendingPathComponent("small.npy").path
        try NumPyArray.write(x, to: input)
        let runs: [(String, [String])] = [
            ("jumprelu", ["--l0-coefficient", "0.01", "--bandwidth", "0.01", "--initial-threshold", "0.05"]),
            ("batchtopk", ["--k", "4"]),
            ("matryoshka", ["--k", "4", "--matryoshka-widths", "8,16"]),
        ]
        for (architecture, options) in runs {
            let sae = dir.appendingPathComponent(architecture).path
            let out = try runLoupe(["sae", "train", "--input", input, "--architecture", architecture, "--latents", "32",
                                    "--batch-size", "128", "--tokens", "1280", "--lr", "1e-3", "--out", sae] + options)
            let trained = architecture == "matryoshka" ? "matryoshka_batchtopk" : architecture
            #expect(out.contains("\(trained) SAE d_in 16 d_sae 32: 10 steps, 1280 tokens"), "\(out)")
            let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sae + "/cfg.json"))) as! [String: Any]
            #expect(cfg["architecture"] as? String == "jumprelu")
            let weights = try SafetensorsCheckpoint(path: sae + "/sae_weights.safetensors")
            #expect(weights.shape(of: "threshold") == [32])
            let meta = cfg["metadata"] as? [String: Any] ?? [:]
            if architecture != "jumprelu" { #expect(meta["trained_architecture"] as? String == trained) }
            if architecture == "matryoshka" { #expect(meta["matryoshka_widths"] as? String == "8,16,32") }
            let latents = dir.appendingPathComponent("\(architecture).npy").path
            #expect(try runLoupe(["sae", "encode", "--sae", sae, "--input", input, "--out", latents]).contains("wrote \(latents) [512, 32]"))
        }
        let sae = dir.appendingPathComponent("bad").path
        let base = ["sae", "train", "--input", input, "--latents", "32", "--batch-size", "128", "--tokens", "256", "--out", sae]
        #expect(loupeError(base + ["--architecture", "matryoshka", "--k", "4", "--matryoshka-widths", "8,x"]).contains("'x'"))
        #expect(loupeError(base + ["--architecture", "matryoshka", "--k", "4", "--matryoshka-widths", "2,16"]).contains("smaller than k 4"))
        #expect(loupeError(base + ["--architecture", "batchtopk", "--matryoshka-widths", "8,16"]).contains("goes with --architecture matryoshka"))
        #expect(loupeError(base + ["--architecture", "jumprelu", "--bandwidth", "0"]).contains("bandwidth"))
        let help = loupeError(["sae", "train", "--help"])
        #expect(help.contains("--matryoshka-widths") && help.contains("--l0-coefficient") && help.contains("jumprelu"))
    }
}
