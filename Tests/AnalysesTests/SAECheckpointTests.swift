import Analyses
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Training checkpoints: a run stopped after step M and resumed from its checkpoint by a new
/// source ends with the same weights, bit for bit, as a run never stopped; a resume with a
/// different config or different data is refused, naming the field.
struct SAECheckpointTests {
    /// Every Float of the weights (and the inference threshold) as bit patterns.
    static func bits(_ sae: any SparseAutoencoder) -> [[UInt32]] {
        let p = sae.parameters
        return [p.wEnc, p.wDec, p.bEnc, p.bDec, p.threshold, p.wSkip, sae.inferenceThreshold ?? []].map { $0.map(\.bitPattern) }
    }

    /// 600 seeded rows of width 16 from a sparse dictionary of 24 directions plus noise.
    static func rows() -> Tensor {
        var rng = SeededRandom(seed: 11)
        let dictionary = (0..<24 * 16).map { _ in rng.nextGaussian() }
        var x = [Float](repeating: 0, count: 600 * 16)
        for r in 0..<600 {
            for _ in 0..<3 {
                let i = Int(rng.next() % 24), a = 1 + rng.nextUniform()
                for j in 0..<16 { x[r * 16 + j] += a * dictionary[i * 16 + j] }
            }
            for j in 0..<16 { x[r * 16 + j] += 0.05 * rng.nextGaussian() + 0.3 }
        }
        return Tensor(shape: [600, 16], scalars: x)
    }

    static func config(_ architecture: SAEArchitecture) -> SAETrainingConfig {
        // 25 steps of 64 rows: 1600 rows, almost three passes over the 600 (a pass boundary inside a batch).
        var c = SAETrainingConfig(architecture: architecture, latents: 32, k: 4, l1Coefficient: 0.5, learningRate: 3e-3, batchSize: 64,
                                  tokens: 64 * 25, seed: 9, warmupSteps: 3, deadWindow: 200, progressEvery: 7)
        c.bDecInit = architecture == .standard ? .geometricMedian : .mean
        if architecture == .matryoshka { c.matryoshkaWidths = [8, 16, 32] }
        return c
    }

    static func temporaryCheckpoint() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-ckpt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(SAECheckpoint.fileName).path
    }

    /// Straight, then stopped after `stop` with checkpoints every 4 steps, then resumed by a
    /// fresh source: the final weights, compared bit for bit.
    static func straightAndResumed<S: SAETrainingSource>(_ config: SAETrainingConfig, stop: Int, source: () throws -> S) throws
        -> (straight: [[UInt32]], resumed: [[UInt32]], resumedFrom: Int?) {
        var a = try source()
        let straight = try SAETrainer.train(source: &a, config: config)
        let path = try temporaryCheckpoint()
        var b = try source()
        let stopped = try SAETrainer.train(source: &b, config: config, checkpoint: SAECheckpointing(path: path, every: 4, stopAfter: stop))
        #expect(stopped.stoppedAfter == stop)
        var c = try source()
        var said: (Int, Int)?
        let resumed = try SAETrainer.train(source: &c, config: config, checkpoint: SAECheckpointing(path: path, every: 4) { said = ($0, $1) })
        #expect(said?.0 == stop && said?.1 == config.steps)
        #expect(resumed.final.tokens == straight.final.tokens && resumed.skipped == straight.skipped)
        return (bits(straight.sae), bits(resumed.sae), resumed.resumedFrom)
    }

    @Test(arguments: [SAEArchitecture.standard, .topk, .batchtopk, .jumprelu, .matryoshka])
    func matrixSourceResumesBitForBit(_ architecture: SAEArchitecture) throws {
        let x = Self.rows()
        let r = try Self.straightAndResumed(Self.config(architecture), stop: 13) { try MatrixSource(x, seed: 5) }
        #expect(r.resumedFrom == 13)
        #expect(r.straight == r.resumed, "\(architecture): resumed weights differ from the straight run's")
        // The check is not vacuous: stopping changes nothing only if the state is all saved.
        #expect(r.straight[1].contains { $0 != 0 })
    }

    /// A TopK transcoder with a skip term (the sixth Adam) on paired matrix rows.
    @Test func skipTranscoderResumesBitForBit() throws {
        let x = Self.rows()
        let y = Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { i, v in v * 0.5 + Float(i % 7) * 0.1 })
        var config = Self.config(.topk)
        config.skip = true
        let r = try Self.straightAndResumed(config, stop: 9) { try MatrixSource(x, target: y, seed: 5) }
        #expect(r.straight == r.resumed && r.straight[5].contains { $0 != 0 })
    }

    /// Live activations of the tiny Llama: 14 windows of 12 tokens, 3 per forward pass into a
    /// buffer of 40 rows, so the resume lands mid-pass with a partly drawn buffer.
    @Test(arguments: [SAEArchitecture.standard, .topk])
    func liveSourceResumesBitForBit(_ architecture: SAEArchitecture) throws {
        let model = try TinyModels.model(TinyModels.llamaConfig())
        var rng = SeededRandom(seed: 21)
        let windows = (0..<14).map { _ in (0..<12).map { _ in Int(rng.next() % 50) } }
        let hook = try model.config.hookPoint(named: "blocks.0.hook_resid_post")
        var config = Self.config(architecture)
        (config.batchSize, config.tokens) = (16, 16 * 30)
        let r = try Self.straightAndResumed(config, stop: 17) {
            try LiveSource(model: model, windows: windows, hook: hook, bufferRows: 40, windowsPerPass: 3, seed: 4)
        }
        #expect(r.resumedFrom == 17)
        #expect(r.straight == r.resumed, "\(architecture): resumed weights differ from the straight run's")
    }

    @Test func aResumeWithOtherOptionsOrDataIsRefusedByName() throws {
        let x = Self.rows(), config = Self.config(.topk)
        let path = try Self.temporaryCheckpoint()
        var s = try MatrixSource(x, seed: 5)
        _ = try SAETrainer.train(source: &s, config: config, checkpoint: SAECheckpointing(path: path, every: 0, stopAfter: 5))
        var other = config
        other.learningRate = 1e-3
        var s2 = try MatrixSource(x, seed: 5)
        #expect { try SAETrainer.train(source: &s2, config: other, checkpoint: SAECheckpointing(path: path)) } throws: { error in
            "\(error)".contains("learningRate 0.003") && "\(error)".contains("this run has 0.001")
        }
        var s3 = try MatrixSource(x, seed: 6)
        #expect { try SAETrainer.train(source: &s3, config: config, checkpoint: SAECheckpointing(path: path)) } throws: { error in
            "\(error)".contains("data seed 5") && "\(error)".contains("6")
        }
        var s4 = try MatrixSource(x.rows(0..<500), seed: 5)
        #expect { try SAETrainer.train(source: &s4, config: config, checkpoint: SAECheckpointing(path: path)) } throws: { error in
            "\(error)".contains("data shape")
        }
        try "not a checkpoint".write(toFile: path, atomically: true, encoding: .utf8)
        var s5 = try MatrixSource(x, seed: 5)
        #expect(throws: (any Error).self) { try SAETrainer.train(source: &s5, config: config, checkpoint: SAECheckpointing(path: path)) }
    }

    /// `b_dec` starts at the first batch's geometric median (not its mean) when asked.
    @Test func decoderBiasStartsAtTheGeometricMedian() throws {
        let x = Self.rows()
        var config = Self.config(.topk)
        config.bDecInit = .geometricMedian
        let first = x.rows(0..<64)
        let run = try SAETrainingRun(config: config, width: 16, targetWidth: nil, firstBatch: first)
        let median = GeometricMedian.of(first.scalars, rows: 64, width: 16).median.map(Float.init)
        #expect(run.sae.parameters.bDec == median)
        config.bDecInit = .zeros
        #expect(try SAETrainingRun(config: config, width: 16, targetWidth: nil, firstBatch: first).sae.parameters.bDec.allSatisfy { $0 == 0 })
    }
}
