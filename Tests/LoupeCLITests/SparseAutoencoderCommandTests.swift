import Analyses
import Formats
import Foundation
import Linalg
import LoupeCLI
import Testing

@Suite struct SparseAutoencoderCommandTests {
    /// `sae train --input` then `sae encode` write an SAELens folder and a [rows, d_sae] .npy.
    @Test func trainThenEncodeWriteTheExpectedFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-sae-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 3)
        let rows = 600, d = 16
        let x = Tensor(shape: [rows, d], scalars: (0..<(rows * d)).map { _ in rng.nextGaussian() })
        let input = dir.appendingPathComponent("small.npy").path, sae = dir.appendingPathComponent("sae").path
        let latents = dir.appendingPathComponent("f.npy").path
        try NumPyArray.write(x, to: input)
        let trained = try runLoupe(["sae", "train", "--input", input, "--architecture", "topk", "--latents", "32", "--k", "4",
                                    "--batch-size", "128", "--tokens", "1280", "--lr", "1e-3", "--out", sae])
        #expect(trained.contains("topk SAE d_in 16 d_sae 32: 10 steps, 1280 tokens"))  // full batches across passes of 600 rows
        #expect(FileManager.default.fileExists(atPath: sae + "/cfg.json"))
        let weights = try SafetensorsCheckpoint(path: sae + "/sae_weights.safetensors")
        #expect(weights.shape(of: "W_enc") == [16, 32] && weights.shape(of: "W_dec") == [32, 16])
        #expect(weights.shape(of: "b_enc") == [32] && weights.shape(of: "b_dec") == [16])
        let encoded = try runLoupe(["sae", "encode", "--sae", sae, "--input", input, "--out", latents, "--batch-size", "100"])
        #expect(encoded.contains("wrote \(latents) [600, 32]"))
        let f = try NumPyArray.read(path: latents)
        #expect(f.shape == [600, 32])
        for r in 0..<rows { #expect(f.row(r).filter { $0 != 0 }.count <= 4) }
        // The file equals the library's encoding of the same rows.
        let library = try SAEFolder.load(sae).sae.encode(x)
        #expect(zip(f.scalars, library.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        // Width mismatch is refused naming both widths.
        try NumPyArray.write(Tensor(shape: [2, 5], scalars: Array(repeating: 1, count: 10)), to: input)
        #expect(loupeError(["sae", "encode", "--sae", sae, "--input", input, "--out", latents]).contains("width 5, but the SAE's d_in is 16"))
        #expect(loupeError(["sae", "train", "--input", input, "--store", "x.db", "--latents", "4", "--out", sae]).contains("give one source"))
    }
}
