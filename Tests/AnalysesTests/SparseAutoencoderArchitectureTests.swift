import Analyses
import Formats
import Foundation
import Linalg
import Testing

/// Independent Double-precision losses of JumpReLU, BatchTopK and Matryoshka BatchTopK, for
/// finite differences. The auxiliary loss's target `e` is held fixed, as the SAE detaches it.
private struct ArchitectureReference {
    enum Kind { case jumprelu(threshold: [Double], lambda: Double), batchtopk(k: Int, widths: [Int]) }
    var width: Int, latents: Int, kind: Kind
    var dead: [Bool]? = nil
    var auxK = 0, auxAlpha = 0.0

    func pre(_ p: [[Double]], _ x: [Double]) -> [Double] {
        (0..<latents).map { i in
            var s = p[2][i]
            for j in 0..<width { s += (x[j] - p[3][j]) * p[0][j * latents + i] }
            return s
        }
    }

    func decode(_ p: [[Double]], _ f: [(Int, Double)], bias: Bool) -> [Double] {
        var out = bias ? p[3] : [Double](repeating: 0, count: width)
        for (i, v) in f { for j in 0..<width { out[j] += v * p[1][i * width + j] } }
        return out
    }

    func squared(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }

    /// BatchTopK by sorting: the `k · rows` largest positive entries among the first `w` columns.
    func batchTopK(_ pres: [[Double]], k: Int, w: Int) -> [[(Int, Double)]] {
        var all: [(row: Int, i: Int, v: Double)] = []
        for (r, a) in pres.enumerated() { for i in 0..<w where a[i] > 0 { all.append((r, i, a[i])) } }
        all.sort { $0.v > $1.v }
        var out = [[(Int, Double)]](repeating: [], count: pres.count)
        for e in all.prefix(k * pres.count) { out[e.row].append((e.i, e.v)) }
        return out
    }

    func loss(_ p: [[Double]], _ xs: [[Double]], residuals: [[Double]]?) -> (Double, [[Double]]) {
        let pres = xs.map { pre(p, $0) }
        var total = 0.0, res: [[Double]] = []
        switch kind {
        case let .jumprelu(threshold, lambda):
            for (x, a) in zip(xs, pres) {
                let f = (0..<latents).filter { a[$0] > threshold[$0] && a[$0] > 0 }.map { ($0, a[$0]) }
                total += squared(decode(p, f, bias: true), x) + lambda * Double(f.count)
            }
        case let .batchtopk(k, widths):
            let full = batchTopK(pres, k: k, w: latents)
            for (r, x) in xs.enumerated() {
                let xhat = decode(p, full[r], bias: true)
                total += squared(xhat, x)
                let e = residuals?[r] ?? zip(x, xhat).map { $0 - $1 }
                res.append(e)
                guard let dead, dead.contains(true) else { continue }
                let deadCount = dead.filter { $0 }.count
                let chosen = (0..<latents).filter { dead[$0] && pres[r][$0] > 0 }.sorted { pres[r][$0] > pres[r][$1] }
                    .prefix(min(auxK, deadCount)).map { ($0, pres[r][$0]) }
                total += auxAlpha * min(Double(deadCount) / Double(auxK), 1) * squared(decode(p, chosen, bias: false), e)
            }
            for w in widths.dropLast() {
                let inner = batchTopK(pres, k: k, w: w)
                for (r, x) in xs.enumerated() { total += squared(decode(p, inner[r], bias: true), x) }
            }
        }
        return (total / Double(xs.count), res)
    }
}

private func randomParameters(width d: Int, latents m: Int, seed: UInt64) throws -> SAEParameters {
    var rng = SeededRandom(seed: seed)
    var p = try SAEParameters(width: d, latents: m)
    p.wEnc = p.wEnc.map { _ in rng.nextGaussian() * 0.5 }
    p.wDec = p.wDec.map { _ in rng.nextGaussian() * 0.5 }
    p.bEnc = p.bEnc.map { _ in rng.nextGaussian() * 0.2 }
    p.bDec = p.bDec.map { _ in rng.nextGaussian() * 0.2 }
    return p
}

private func randomMatrix(_ n: Int, _ d: Int, seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return Tensor(shape: [n, d], scalars: (0..<(n * d)).map { _ in rng.nextGaussian() })
}

/// Rows that are nonnegative combinations of `perRow` of `features` unit directions plus noise;
/// feature `j` is drawn with weight `1 / (j + 1)^zipf` (0: uniform).
private func syntheticData(rows n: Int, width d: Int, features: Int, perRow: Int, noise: Float, zipf: Double = 0,
                           seed: UInt64) -> (Tensor, [[Float]]) {
    var rng = SeededRandom(seed: seed)
    let dictionary: [[Float]] = (0..<features).map { _ in
        let v = (0..<d).map { _ in rng.nextGaussian() }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
    let weights = (0..<features).map { 1 / pow(Double($0 + 1), zipf) }
    let cumulative = weights.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1) }
    var x = [Float](repeating: 0, count: n * d)
    for r in 0..<n {
        var chosen = Set<Int>()
        while chosen.count < perRow {
            let u = Double(rng.nextUniform()) * cumulative.last!
            chosen.insert(cumulative.firstIndex { $0 > u } ?? features - 1)
        }
        for f in chosen {
            let c = 0.5 + rng.nextUniform()
            for j in 0..<d { x[r * d + j] += c * dictionary[f][j] }
        }
        for j in 0..<d { x[r * d + j] += noise * rng.nextGaussian() }
    }
    return (Tensor(shape: [n, d], scalars: x), dictionary)
}

/// Mean over true features of the largest cosine with a learned decoder row.
private func recovery(_ p: SAEParameters, _ dictionary: [[Float]]) -> Double {
    let d = p.width, norms = p.decoderNorms
    let best = dictionary.map { t in
        (0..<p.latents).map { i -> Double in
            guard norms[i] > 0 else { return -1 }
            return Double((0..<d).reduce(Float(0)) { $0 + t[$1] * p.wDec[i * d + $1] } / norms[i])
        }.max()!
    }
    return best.reduce(0, +) / Double(best.count)
}

/// Explained variance of `x` by `f`'s first `prefix` latents decoded alone, in Double.
private func prefixExplainedVariance(_ sae: any SparseAutoencoder, _ x: Tensor, prefix: Int) throws -> Double {
    var f = try sae.encode(x)
    let n = x.shape[0], m = sae.latents, d = sae.width
    for r in 0..<n { for i in prefix..<m { f.scalars[r * m + i] = 0 } }
    let xhat = try sae.decode(f)
    var mean = [Double](repeating: 0, count: d)
    for r in 0..<n { for j in 0..<d { mean[j] += Double(x.scalars[r * d + j]) / Double(n) } }
    var err = 0.0, variance = 0.0
    for r in 0..<n {
        for j in 0..<d {
            let v = Double(x.scalars[r * d + j])
            err += (v - Double(xhat.scalars[r * d + j])) * (v - Double(xhat.scalars[r * d + j]))
            variance += (v - mean[j]) * (v - mean[j])
        }
    }
    return 1 - err / variance
}

private func temporaryFolder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("loupe-sae-arch-\(UUID())").path
}

@Suite struct SparseAutoencoderArchitectureTests {
    /// Analytic gradients of W_enc, W_dec, b_enc, b_dec against central differences.
    private func checkGradients(_ sae: any SparseAutoencoder, reference: ArchitectureReference, options: SAELossOptions,
                                rows: Int = 5) throws {
        let x = randomMatrix(rows, reference.width, seed: 7)
        let (stats, g) = try sae.lossAndGradients(x, options: options)
        let p = sae.parameters
        var params = [p.wEnc, p.wDec, p.bEnc, p.bDec].map { $0.map(Double.init) }
        let xs = (0..<rows).map { x.row($0).map(Double.init) }
        let (base, residuals) = reference.loss(params, xs, residuals: nil)
        #expect(abs(stats.loss - base) <= 1e-4 * max(1, abs(base)), "loss \(stats.loss) against reference \(base)")
        let grads = [g.wEnc, g.wDec, g.bEnc, g.bDec]
        let h = 1e-6
        var worst = 0.0, scale = 0.0
        for a in 0..<4 {
            for i in params[a].indices {
                let saved = params[a][i]
                params[a][i] = saved + h
                let up = reference.loss(params, xs, residuals: residuals).0
                params[a][i] = saved - h
                let down = reference.loss(params, xs, residuals: residuals).0
                params[a][i] = saved
                let fd = (up - down) / (2 * h)
                worst = max(worst, abs(fd - Double(grads[a][i])))
                scale = max(scale, abs(fd))
            }
        }
        #expect(scale > 0)
        #expect(worst <= 1e-3 * max(scale, 1), "largest gradient error \(worst) against scale \(scale)")
    }

    @Test func jumpReLUGradientsMatchFiniteDifferences() throws {
        var p = try randomParameters(width: 6, latents: 10, seed: 31)
        p.threshold = (0..<10).map { 0.1 + 0.05 * Float($0) }
        let sae = try JumpReLUSAE(parameters: p, bandwidth: 0.01)
        let reference = ArchitectureReference(width: 6, latents: 10, kind: .jumprelu(threshold: p.threshold.map(Double.init), lambda: 0.3))
        try checkGradients(sae, reference: reference, options: SAELossOptions(sparsityCoefficient: 0.3))
    }

    /// The threshold's straight-through pseudo-gradient on a case worked by hand: d_in 2, two
    /// latents, W_enc = I (pre = x), b = 0, W_dec rows [1, 1] and [0, 2], θ = [0.5, 1], ε = 0.2,
    /// λ = 0.4, rows [0.55, 1.5] and [0.2, 0.95]. Row 1: both fire, x̂ = [0.55, 3.55],
    /// r = [0, 2.05]; row 2: none fires, r = [-0.2, -0.95]. dL/dx̂ = 2r/2 = r; dL/df = r W_decᵀ:
    /// row 1 latent 0 gets 2.05, row 2 latent 1 gets -1.9. Inside the window |pre - θ| < 0.1 are
    /// (row 1, latent 0) and (row 2, latent 1). dL/dθ_0 = 2.05 · (-0.5/0.2) + (0.4/2) · (-1/0.2)
    /// = -5.125 - 1 = -6.125; dL/dθ_1 = -1.9 · (-1/0.2) - 1 = 8.5. Loss: MSE (4.2025 + 0.04 +
    /// 0.9025)/2 = 2.5725 plus 0.4 · mean L0 1 = 2.9725 (checked in NumPy too).
    @Test func jumpReLUThresholdGradientMatchesAHandComputation() throws {
        var p = try SAEParameters(width: 2, latents: 2)
        p.wEnc = [1, 0, 0, 1]
        p.wDec = [1, 1, 0, 2]
        p.threshold = [0.5, 1]
        let sae = try JumpReLUSAE(parameters: p, bandwidth: 0.2)
        let x = Tensor(shape: [2, 2], scalars: [0.55, 1.5, 0.2, 0.95])
        let (stats, g) = try sae.lossAndGradients(x, options: SAELossOptions(sparsityCoefficient: 0.4))
        #expect(abs(stats.loss - 2.9725) < 1e-5)
        #expect(abs(stats.l0 - 1) < 1e-12)
        #expect(g.threshold.count == 2)
        #expect(abs(g.threshold[0] - -6.125) < 1e-5 && abs(g.threshold[1] - 8.5) < 1e-5, "\(g.threshold)")
        // pre gets the exact derivative H(pre - θ): b_enc's gradient is dL/df on firing latents only.
        #expect(abs(g.bEnc[0] - 2.05) < 1e-5 && abs(g.bEnc[1] - 4.1) < 1e-5, "\(g.bEnc)")
    }

    @Test func batchTopKGradientsMatchFiniteDifferencesWithAuxiliaryLoss() throws {
        let p = try randomParameters(width: 6, latents: 10, seed: 32)
        let sae = try BatchTopKSAE(parameters: p, k: 3, auxK: 4, auxAlpha: 0.5)
        let dead = (0..<10).map { $0 % 3 == 0 }
        try checkGradients(sae, reference: ArchitectureReference(width: 6, latents: 10, kind: .batchtopk(k: 3, widths: [10]),
                                                                  dead: dead, auxK: 4, auxAlpha: 0.5),
                           options: SAELossOptions(dead: dead))
    }

    @Test func matryoshkaGradientsMatchFiniteDifferences() throws {
        let p = try randomParameters(width: 6, latents: 12, seed: 33)
        let sae = try MatryoshkaSAE(base: try BatchTopKSAE(parameters: p, k: 2, auxK: 3, auxAlpha: 0.5), widths: [3, 6])
        #expect(sae.widths == [3, 6, 12])
        let dead = (0..<12).map { $0 % 4 == 1 }
        try checkGradients(sae, reference: ArchitectureReference(width: 6, latents: 12, kind: .batchtopk(k: 2, widths: [3, 6, 12]),
                                                                  dead: dead, auxK: 3, auxAlpha: 0.5),
                           options: SAELossOptions(dead: dead))
    }

    /// The batch selection keeps exactly k · rows entries, the largest positive ones (checked
    /// against sorting), some rows more than k and some fewer.
    @Test func batchTopKKeepsTheLargestEntriesOfTheWholeBatch() throws {
        let p = try randomParameters(width: 8, latents: 40, seed: 34)
        let sae = try BatchTopKSAE(parameters: p, k: 5)
        let x = randomMatrix(64, 8, seed: 35)
        let f = try sae.encodeBatch(x)
        let kept = f.scalars.filter { $0 > 0 }
        #expect(kept.count == 5 * 64)
        // The reference pre-activations in Double, sorted.
        var pre: [Double] = []
        for r in 0..<64 {
            for i in 0..<40 {
                var s = Double(p.bEnc[i])
                for j in 0..<8 { s += Double(x.scalars[r * 8 + j] - p.bDec[j]) * Double(p.wEnc[j * 40 + i]) }
                pre.append(s)
            }
        }
        let cut = pre.sorted(by: >)[5 * 64 - 1]
        for (v, ref) in zip(f.scalars, pre) where abs(ref - cut) > 1e-5 { #expect((v > 0) == (ref >= cut)) }
        let perRow = (0..<64).map { r in f.row(r).filter { $0 > 0 }.count }
        #expect(perRow.max()! > 5 && perRow.min()! < 5)
    }

    /// The existing recovery benchmark (64 unit features, 3 per row, in 32 dimensions; 128
    /// latents, k 4, 20 passes). JumpReLU: data of norm about 1.7 makes SAELens's θ and ε of
    /// 0.001 (meant for activations normalized to norm sqrt(d_in)) far too small, so θ starts at
    /// 0.1 with ε 0.05 and λ 0.3 (measured: recovery 0.95, λ 0.02 gives 0.88 at L0 8). Matryoshka:
    /// widths [64, 128], since a prefix narrower than the 64 equally frequent true features must
    /// mix them (measured: [32, 128] recovers 0.87, [64, 128] 0.95). The last 40 steps give EV.
    @Test(arguments: [SAEArchitecture.jumprelu, .batchtopk, .matryoshka])
    func recoversAKnownSparseDictionary(_ architecture: SAEArchitecture) throws {
        let (x, dictionary) = syntheticData(rows: 8192, width: 32, features: 64, perRow: 3, noise: 0.01, seed: 11)
        var source = try MatrixSource(x, seed: 5)
        let config = SAETrainingConfig(architecture: architecture, latents: 128, k: 4, learningRate: 3e-3, batchSize: 256,
                                       tokens: 8192 * 20, seed: 3, deadWindow: 4096, progressEvery: 200,
                                       l0Coefficient: 0.3, bandwidth: 0.05, initialThreshold: 0.1, matryoshkaWidths: [64, 128])
        let result = try SAETrainer.train(source: &source, config: config)
        let score = recovery(result.sae.parameters, dictionary)
        let inferenceL0 = try result.sae.encode(x.rows(0..<2048)).scalars.filter { $0 != 0 }.count
        print("SAE \(architecture): recovery \(score), EV \(result.final.explainedVariance), L0 \(result.final.l0), inference L0 \(Double(inferenceL0) / 2048), dead \(result.final.deadFraction), \(Int(result.final.tokensPerSecond)) rows/s")
        #expect(score >= 0.9)
        #expect(result.final.explainedVariance > 0.8)
    }

    /// After training, BatchTopK's inference is exactly a JumpReLU whose threshold is the
    /// learned estimate in every latent, and that threshold gives about k latents per row.
    @Test func batchTopKInferenceIsAJumpReLUWithTheLearnedThreshold() throws {
        let (x, _) = syntheticData(rows: 4096, width: 16, features: 32, perRow: 3, noise: 0.01, seed: 12)
        var source = try MatrixSource(x, seed: 6)
        let config = SAETrainingConfig(architecture: .batchtopk, latents: 64, k: 3, learningRate: 3e-3, batchSize: 128,
                                       tokens: 4096 * 10, seed: 4, deadWindow: 2048, progressEvery: 1000)
        let trained = try SAETrainer.train(source: &source, config: config).sae
        let sae = try #require(trained as? BatchTopKSAE)
        #expect(sae.threshold > 0)
        var p = sae.parameters
        p.threshold = [Float](repeating: Float(sae.threshold), count: 64)
        let jump = try JumpReLUSAE(parameters: p)
        #expect(try jump.encode(x) == sae.encode(x))
        let l0 = Double(try sae.encode(x).scalars.filter { $0 != 0 }.count) / 4096
        #expect(l0 > 1.5 && l0 < 6, "inference L0 \(l0) for k 3")
        // Saved as SAELens does: jumprelu with the threshold broadcast; it loads as a JumpReLU.
        let dir = temporaryFolder()
        try SAEFolder.save(sae, metadata: SAEMetadata(hookName: "h"), to: dir)
        let (loaded, meta) = try SAEFolder.load(dir)
        #expect(loaded.architecture == "jumprelu" && loaded.parameters == p)
        #expect(meta.extra["trained_architecture"] == "batchtopk" && meta.extra["batchtopk_k"] == "3")
        #expect(try loaded.encode(x) == sae.encode(x))
    }

    /// Nesting works: on data whose features have Zipf frequencies, the first 16 latents of a
    /// Matryoshka SAE alone explain far more variance than the first 16 of a plain BatchTopK
    /// trained the same way (whose order of latents means nothing), because the loss makes the
    /// prefix reconstruct by itself, so it holds the most frequent features.
    @Test func matryoshkaFirstPrefixReconstructsOnItsOwn() throws {
        let (x, _) = syntheticData(rows: 8192, width: 32, features: 64, perRow: 3, noise: 0.01, zipf: 1, seed: 13)
        func train(_ architecture: SAEArchitecture) throws -> any SparseAutoencoder {
            var source = try MatrixSource(x, seed: 7)
            let config = SAETrainingConfig(architecture: architecture, latents: 128, k: 4, learningRate: 3e-3, batchSize: 256,
                                           tokens: 8192 * 10, seed: 5, deadWindow: 4096, progressEvery: 1000, matryoshkaWidths: [16, 128])
            return try SAETrainer.train(source: &source, config: config).sae
        }
        let matryoshka = try prefixExplainedVariance(try train(.matryoshka), x, prefix: 16)
        let plain = try prefixExplainedVariance(try train(.batchtopk), x, prefix: 16)
        print("Matryoshka prefix 16: explained variance \(matryoshka); plain BatchTopK's first 16: \(plain)")
        #expect(matryoshka > plain + 0.2)
        #expect(matryoshka > 0.5)
    }

    @Test(arguments: ["jumprelu", "matryoshka_batchtopk"])
    func saveThenLoadEncodesIdentically(_ name: String) throws {
        var p = try randomParameters(width: 8, latents: 12, seed: 21)
        let sae: any SparseAutoencoder
        if name == "jumprelu" {
            p.threshold = (0..<12).map { 0.05 * Float($0) }
            sae = try JumpReLUSAE(parameters: p)
        } else {
            sae = try MatryoshkaSAE(base: try BatchTopKSAE(parameters: p, k: 3, threshold: 0.3), widths: [4, 8])
        }
        let dir = temporaryFolder()
        try SAEFolder.save(sae, metadata: SAEMetadata(hookName: "blocks.3.hook_resid_post", modelName: "tiny", contextSize: 16), to: dir)
        let (loaded, meta) = try SAEFolder.load(dir)
        #expect(loaded.architecture == "jumprelu")
        #expect(loaded.parameters.wEnc == p.wEnc && loaded.parameters.wDec == p.wDec && loaded.parameters.bEnc == p.bEnc)
        #expect(loaded.parameters.threshold == sae.inferenceThreshold)
        #expect(meta.hookName == "blocks.3.hook_resid_post")
        let x = randomMatrix(9, 8, seed: 5)
        let f = try sae.encode(x)
        #expect(try loaded.encode(x) == f)
        #expect(f.scalars.contains { $0 != 0 } && f.scalars.contains(0))
        let weights = try SafetensorsCheckpoint(path: dir + "/sae_weights.safetensors")
        #expect(weights.shape(of: "threshold") == [12])
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/cfg.json"))) as! [String: Any]
        #expect(cfg["architecture"] as? String == "jumprelu")
        if name != "jumprelu" { #expect(meta.extra["matryoshka_widths"] == "4,8,12") }
    }

    @Test func badJumpReLUFoldersAreClearErrors() throws {
        var p = try randomParameters(width: 8, latents: 12, seed: 22)
        p.threshold = [Float](repeating: 0.1, count: 12)
        let dir = temporaryFolder()
        try SAEFolder.save(try JumpReLUSAE(parameters: p), metadata: SAEMetadata(), to: dir)
        let weightsPath = dir + "/sae_weights.safetensors"
        func message(threshold: (shape: [Int], values: [Float])?) throws -> String {
            var tensors: [SafetensorsEncoder.Tensor32] = [
                .init(name: "W_enc", shape: [8, 12], values: p.wEnc), .init(name: "W_dec", shape: [12, 8], values: p.wDec),
                .init(name: "b_enc", shape: [12], values: p.bEnc), .init(name: "b_dec", shape: [8], values: p.bDec),
            ]
            if let threshold { tensors.append(.init(name: "threshold", shape: threshold.shape, values: threshold.values)) }
            try SafetensorsEncoder.write(tensors, to: weightsPath)
            do { _ = try SAEFolder.load(dir); return "(no error)" } catch { return "\(error)" }
        }
        #expect(try message(threshold: nil).contains("tensor 'threshold' is missing (expected shape [12])"))
        #expect(try message(threshold: ([11], Array(p.threshold.prefix(11)))).contains("tensor 'threshold' has shape [11], expected [12]"))
        var bad = p.threshold
        bad[4] = .nan
        #expect(try message(threshold: ([12], bad)).contains("'threshold' holds nan at latent 4"))
        #expect(try message(threshold: ([12], p.threshold)) == "(no error)")
        // A standard cfg.json beside a threshold tensor contradicts itself.
        let cfgURL = URL(fileURLWithPath: dir + "/cfg.json")
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: cfgURL)) as! [String: Any]
        cfg["architecture"] = "standard"
        try JSONSerialization.data(withJSONObject: cfg).write(to: cfgURL)
        do { _ = try SAEFolder.load(dir); Issue.record("loaded a contradictory folder") } catch let error as SAEError {
            guard case .badConfig(_, let field, let reason) = error else { Issue.record("\(error)"); return }
            #expect(field == "architecture" && reason.contains("'threshold' tensor"))
        }
        cfg["architecture"] = "batchtopk"
        try JSONSerialization.data(withJSONObject: cfg).write(to: cfgURL)
        #expect(throws: SAEError.self) { try SAEFolder.load(dir) }
    }

    @Test func badConfigurationsAreRefusedWithTheValue() throws {
        func message(_ config: SAETrainingConfig) -> String {
            do { try config.validate(width: 8); return "(no error)" } catch { return "\(error)" }
        }
        #expect(message(SAETrainingConfig(architecture: .batchtopk, latents: 16, k: 17, tokens: 10)).contains("BatchTopK k 17"))
        #expect(message(SAETrainingConfig(architecture: .matryoshka, latents: 16, k: 4, tokens: 10, matryoshkaWidths: [2, 16])).contains("width 2 is smaller than k 4"))
        #expect(message(SAETrainingConfig(architecture: .matryoshka, latents: 16, k: 4, tokens: 10, matryoshkaWidths: [8, 8, 16])).contains("increase strictly"))
        #expect(message(SAETrainingConfig(architecture: .matryoshka, latents: 16, k: 4, tokens: 10, matryoshkaWidths: [8, 32])).contains("more than d_sae 16"))
        #expect(message(SAETrainingConfig(architecture: .jumprelu, latents: 16, tokens: 10, bandwidth: 0)).contains("bandwidth 0.0"))
        #expect(message(SAETrainingConfig(architecture: .jumprelu, latents: 16, tokens: 10, initialThreshold: -1)).contains("initial threshold -1.0"))
        #expect(throws: SAEError.self) { try MatryoshkaSAE.parseWidths("8,x") }
        #expect(try MatryoshkaSAE.parseWidths("8, 16,32") == [8, 16, 32])
        #expect(MatryoshkaSAE.defaultWidths(latents: 4608, k: 32) == [288, 576, 1152, 2304, 4608])
    }
}
