import Analyses
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// A transcoder set (two layers of the tiny Llama, skip terms fitted on the first buffer)
/// stopped after a round of steps and resumed from its checkpoint writes the same layer
/// folders, byte for byte, as a run never stopped; other options are refused by name.
struct TranscoderSetCheckpointTests {
    static func config() -> TranscoderSetConfig {
        var training = SAETrainingConfig(architecture: .topk, latents: 32, k: 4, learningRate: 3e-3, batchSize: 16, tokens: 16 * 12,
                                         seed: 3, warmupSteps: 2, deadWindow: 100, progressEvery: 5)
        (training.skip, training.skipFromData) = (true, true)
        var c = TranscoderSetConfig(layers: [0, 1], training: training)
        (c.bufferRows, c.windowsPerPass, c.context) = (40, 3, 12)
        return c
    }

    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tcset-ckpt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    static func weights(_ dir: String, _ layer: Int) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: "\(dir)/layer-\(layer)/sae_weights.safetensors"))
    }

    @Test func aStoppedSetResumesMidLayerByteForByte() throws {
        let model = try TinyModels.model(TinyModels.llamaConfig())
        var rng = SeededRandom(seed: 12)
        let windows = (0..<16).map { _ in (0..<12).map { _ in Int(rng.next() % 50) } }
        let (a, b) = (try Self.folder(), try Self.folder())
        _ = try TranscoderSetTrainer.train(model: model, windows: windows, config: Self.config(), directory: a)
        let path = b + "/" + SAECheckpoint.fileName
        _ = try TranscoderSetTrainer.train(model: model, windows: windows, config: Self.config(), directory: b,
                                           checkpoint: SAECheckpointing(path: path, every: 3, stopAfter: 7))
        #expect(FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: b + "/layer-0/sae_weights.safetensors"))
        var other = Self.config()
        other.training.k = 5
        #expect { try TranscoderSetTrainer.train(model: model, windows: windows, config: other, directory: b, checkpoint: SAECheckpointing(path: path)) }
            throws: { "\($0)".contains("k 4") && "\($0)".contains("this run has 5") }
        var resumedAt: Int?
        _ = try TranscoderSetTrainer.train(model: model, windows: windows, config: Self.config(), directory: b,
                                           checkpoint: SAECheckpointing(path: path, every: 3) { r, _ in resumedAt = r })
        #expect(resumedAt == 7 && !FileManager.default.fileExists(atPath: path))
        for layer in [0, 1] { #expect(try Self.weights(a, layer) == Self.weights(b, layer), "layer \(layer)") }
    }
}
