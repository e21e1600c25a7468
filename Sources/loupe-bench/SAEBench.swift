// loupe-bench --sae: SAE training steps (what `SAETrainer` does per step: the architecture's
// lossAndGradients, the gradient constraint, one Adam step per parameter array, the parameter
// constraint, firing counts) timed on a [rows, d_in] .npy matrix, with the settings of
// bench/sae_train_torch.py so both sides time the same work:
// d_sae --sae-latents (4608), k --sae-k (32), --sae-batch (2048) rows per step, --sae-steps (10)
// timed steps after one warm-up step, --sae-repeats (3) fresh SAEs, consecutive rows of the
// matrix (wrapping), a fixed --sae-dead-fraction (0.02) of the latents dead so the auxiliary-k
// loss runs every step. Reports tokens/s per architecture (median and range over repeats), and
// once, `SAETrainer.train` end to end on the same budget as a check that the loop is the trainer's.
import Analyses
import Foundation
import Formats
import Linalg

/// The benchmark's settings (bench/sae_train_torch.py's defaults).
struct SAEBenchSettings {
    var data: String? = nil
    var architectures: [SAEArchitecture] = [.standard, .topk]
    var latents = 4608, k = 32, batchSize = 2048, steps = 10, repeats = 3
    var deadFraction = 0.02
    var l1: Float = 5, learningRate: Float = 4e-4
}

func saeBenchmark(_ s: SAEBenchSettings, report: (String, Double, String) -> Void, record: (String, Double) -> Void) throws {
    let x: Tensor
    if let path = s.data {
        x = try NumPyArray.read(path: path)
    } else {
        var rng = SeededRandom(seed: 0)
        x = Tensor(shape: [4 * s.batchSize, 576], scalars: (0..<(4 * s.batchSize * 576)).map { _ in rng.nextGaussian() })
    }
    guard x.rank == 2, x.shape[0] >= s.batchSize else {
        throw SAEError.badSize("\(s.data ?? "generated data"): shape \(x.shape), need [rows >= \(s.batchSize), d_in]")
    }
    let n = x.shape[0], d = x.shape[1], bs = s.batchSize
    var dead = [Bool](repeating: false, count: s.latents)
    if s.deadFraction > 0 { for i in stride(from: 0, to: s.latents, by: max(1, Int((1 / s.deadFraction).rounded()))) { dead[i] = true } }
    print("sae: \(n) x \(d) rows from \(s.data ?? "generated Gaussian data"), d_sae \(s.latents), batch \(bs), "
          + "\(s.steps) steps x \(s.repeats) repeats, \(dead.filter { $0 }.count) dead latents, threads \(BLAS.threadCount)")
    for architecture in s.architectures {
        var rates: [Double] = []
        for _ in 0..<s.repeats {
            var cursor = 0
            func nextBatch() -> Tensor {
                var rows = [Float](); rows.reserveCapacity(bs * d)
                for r in 0..<bs { let row = (cursor + r) % n; rows += x.scalars[(row * d)..<((row + 1) * d)] }
                cursor = (cursor + bs) % n
                return Tensor(shape: [bs, d], scalars: rows)
            }
            let first = nextBatch()
            var p = try SAEParameters.initialized(width: d, latents: s.latents, decoderNorm: architecture == .topk ? 1 : 0.1, seed: 1)
            for r in 0..<bs { for j in 0..<d { p.bDec[j] += first.scalars[r * d + j] / Float(bs) } }
            var sae: any SparseAutoencoder = architecture == .topk ? try TopKSAE(parameters: p, k: s.k) : StandardSAE(parameters: p)
            var adams = (0..<4).map { _ in Adam(learningRate: s.learningRate) }
            var sinceFired = [Int](repeating: 0, count: s.latents)
            // One step exactly as SAETrainer.train takes it.
            func step(_ batch: Tensor) throws {
                var (stats, g) = try sae.lossAndGradients(batch, options: SAELossOptions(sparsityCoefficient: s.l1, dead: dead))
                sae.constrainGradient(&g)
                adams[0].step(&sae.parameters.wEnc, gradient: g.wEnc)
                adams[1].step(&sae.parameters.wDec, gradient: g.wDec)
                adams[2].step(&sae.parameters.bEnc, gradient: g.bEnc)
                adams[3].step(&sae.parameters.bDec, gradient: g.bDec)
                sae.constrainParameters()
                for i in 0..<s.latents { sinceFired[i] = stats.fired[i] > 0 ? 0 : sinceFired[i] + stats.rows }
            }
            try step(first)
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<s.steps { try step(nextBatch()) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(s.steps * bs) / seconds)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        report("sae_\(architecture.rawValue)_tokens_per_s", median, String(format: "sae %@ training: %.0f tokens/s median of %d (%.0f-%.0f)",
                                                                      architecture.rawValue, median, rates.count, rates.first!, rates.last!))
        record("sae_\(architecture.rawValue)_tokens_per_s_min", rates.first!)
        record("sae_\(architecture.rawValue)_tokens_per_s_max", rates.last!)
        // The trainer itself on the same budget (its own dead tracking, shuffled batches, init).
        let config = SAETrainingConfig(architecture: architecture, latents: s.latents, k: s.k, l1Coefficient: s.l1, learningRate: s.learningRate,
                                       batchSize: bs, tokens: (s.steps + 1) * bs, progressEvery: s.steps + 1)
        var source = try MatrixSource(x, seed: 0)
        let trained = try SAETrainer.train(source: &source, config: config)
        report("sae_\(architecture.rawValue)_trainer_tokens_per_s", trained.final.tokensPerSecond, String(format:
            "sae %@ SAETrainer.train, %d steps end to end (init and first batch included): %.0f tokens/s",
            architecture.rawValue, s.steps + 1, trained.final.tokensPerSecond))
    }
}
