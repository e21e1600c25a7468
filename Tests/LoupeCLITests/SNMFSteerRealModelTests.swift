import Analyses
import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Models
import Testing

/// SNMF on the default model: special tokens left out of the fit rows, and steering with a
/// feature at a target KL (checked against a KL recomputed here from two forward passes).
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SNMFSteerRealModelTests {
    @Test func specialTokensAreLeftOutAndSteeringReachesTheTargetKL() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.txt").path
        // The chat line holds <|im_start|> at position 0 (left out as position 0) and an
        // <|im_end|> and an <|im_start|> later: 2 special-token rows.
        try """
            <|im_start|>user What fruit is red?<|im_end|><|im_start|>assistant Apples are red and sweet.
            My favourite fruits are apples, bananas and ripe oranges from the market.
            The stock market fell sharply after the central bank raised interest rates.
            She played the violin beautifully at the concert last night.
            """.write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("acts.db").path
        let hook = "blocks.15.mlp.hook_post"
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", hook, "--store", store])
        let m = try RealModel.shared()
        let special = SNMFLeftOut.specialIDs(of: m.tokenizer)
        let imStart = try #require(m.tokenizer.id(of: "<|im_start|>")), imEnd = try #require(m.tokenizer.id(of: "<|im_end|>"))
        #expect(special.contains(imStart) && special.contains(imEnd) && !special.contains(m.tokenizer.id(of: " apples") ?? -1))
        let all = try SNMFRows.read(store: store, capture: nil, hook: hook)
        let rows = try SNMFRows.read(store: store, capture: nil, hook: hook, specialIDs: special)
        #expect(all.leftOut == SNMFLeftOut(specialIDs: []).with(firstPosition: 4, specialTokens: 0))
        #expect(rows.leftOut?.firstPosition == 4 && rows.leftOut?.specialTokens == 2, "\(String(describing: rows.leftOut))")
        #expect(rows.tokens == all.tokens - 2 && rows.origins.allSatisfy { !special.contains($0.token) && $0.position > 0 })
        #expect(all.origins.filter { $0.token == imEnd || $0.token == imStart }.count == 2)
        let stream = try SNMFStoreStream(store: store, capture: nil, hook: hook, specialIDs: special)
        #expect(stream.tokens == rows.tokens && stream.leftOut == rows.leftOut)
        // Origins read back from the store for every row equal those the in-memory read kept,
        // also when opening reads the capture one prompt at a time.
        let every = Set(0..<rows.tokens)
        let (kept, read) = (try rows.origins(of: every), try stream.origins(of: every))
        #expect(read.rows == kept.rows && read.rows.count == rows.tokens)
        #expect(read.prompts.mapValues(\.text) == kept.prompts.mapValues(\.text) && read.prompts.mapValues(\.tokens) == kept.prompts.mapValues(\.tokens))
        let single = try SNMFStoreStream(store: store, capture: nil, hook: hook, specialIDs: special, stretch: 1)
        let readSingly = try single.origins(of: every)
        #expect(single.tokens == rows.tokens && single.leftOut == rows.leftOut && readSingly.rows == kept.rows)
        #expect(throws: SNMFError.self) { try stream.origins(of: [rows.tokens]) }
        var streamed: [Float] = []
        try stream.forEachChunk(rows: 7) { _, chunk in streamed += chunk.scalars }
        #expect(streamed == rows.matrix.scalars)

        // The command leaves them out with --model and says so.
        let out = dir.appendingPathComponent("fit").path
        _ = try runLoupe(["snmf", "fit", "--store", store, "--hook", hook, "--rank", "4", "--iterations", "10", "--init", "kmeans",
                          "--model", TestFiles.realModelPath!, "--out", out])
        let file = try SNMFFile.load(path: out + "/snmf.json")
        #expect(file.tokens == rows.tokens && file.leftOut?.specialTokens == 2 && file.config.initialization == .kmeans)
        let summary = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8)
        #expect(summary.contains("4 at position 0, 2 special tokens") && summary.contains("kmeans (k-means++ seed 0"))

        // `snmf features` reads the saved fit back: feature 1's largest neurons are those of
        // snmf.json sorted by |weight|, its top tokens those of tokens.csv.
        let sheet = try json(runLoupe(["snmf", "features", "--fit", out, "--features", "1,3", "--neurons", "4", "--tokens", "2",
                                       "--format", "json"])) as! [String: Any]
        let listed = sheet["features"] as! [[String: Any]]
        #expect(listed.map { $0["feature"] as! Int } == [1, 3])
        let weights = file.features[1]
        let largest = weights.indices.sorted { abs(weights[$0]) > abs(weights[$1]) }.prefix(4)
        #expect((listed[0]["neurons"] as! [[String: Any]]).map { $0["neuron"] as! Int } == Array(largest))
        let tokenRows = try String(contentsOfFile: out + "/tokens.csv", encoding: .utf8)
        let first = (listed[0]["tokens"] as! [[String: Any]])[0]
        #expect(tokenRows.contains("1,1,") && (first["context"] as! String).contains("["), "\(first)")
        #expect((listed[0]["promotes"] as! [String]).count == 8)
        #expect(loupeError(["snmf", "features", "--fit", out, "--features", "9"]).contains("has 4 features"))

        // Steering with feature 1 at KL 0.1 on "I think that", its direction saved.
        let saved = dir.appendingPathComponent("d.json").path
        let result = try json(runLoupe(["snmf", "steer", "--fit", out, "--feature", "1", "--kl", "0.1", "--max-tokens", "3",
                                        "--save", saved, "--no-report", "--format", "json"])) as! [String: Any]
        let setting = (result["settings"] as! [[String: Any]])[0]
        let scale = (setting["scales"] as! [Double])[0], reported = setting["klNeutral"] as! Double
        let direction = try SteeringDirection.load(from: saved)
        #expect(direction.hook == hook && direction.provenance.source == "snmf-feature" && abs(direction.norm - 1) < 1e-5)
        // KL(unsteered || steered) over positions 1... of the base prompt, every position steered, in Double.
        let ids = try m.tokenizer.encode("I think that")
        var hooks = HookSet()
        hooks.add(direction.vector, at: .mlpPost(15), scale: Float(scale))
        let p = try m.transformer.forward([ids], logits: .all).logits[0], q = try m.transformer.forward([ids], hooks: hooks, logits: .all).logits[0]
        let v = p.shape[1]
        func logSoftmax(_ t: Tensor, _ row: Int) -> [Double] {
            let x = (0..<v).map { Double(t.scalars[row * v + $0]) }
            let top = x.max()!, sum = x.reduce(0.0) { $0 + exp($1 - top) }
            return x.map { $0 - top - log(sum) }
        }
        var kl = 0.0
        for row in 1..<ids.count {
            let (lp, lq) = (logSoftmax(p, row), logSoftmax(q, row))
            for i in 0..<v { kl += exp(lp[i]) * (lp[i] - lq[i]) }
        }
        kl /= Double(ids.count - 1)
        // Bisection stops within 2^-12 of the scale (KL about quadratic in it), from above.
        #expect(abs(kl - reported) <= 1e-3 * reported + 1e-5, "recomputed KL \(kl) vs reported \(reported)")
        #expect(reported >= 0.1 * (1 - 1e-3) && reported <= 0.105, "KL \(reported) for target 0.1")
        // Its residual image at hook_resid_post calibrates to the same scale.
        let resid = try json(runLoupe(["snmf", "steer", "--fit", out, "--feature", "1", "--kl", "0.1", "--max-tokens", "1",
                                       "--at", "resid", "--no-report", "--format", "json"])) as! [String: Any]
        let residScale = ((resid["settings"] as! [[String: Any]])[0]["scales"] as! [Double])[0]
        #expect(abs(residScale - scale) <= 1e-2 * scale, "\(residScale) vs \(scale)")
        #expect(loupeError(["snmf", "steer", "--fit", out, "--feature", "7"]).contains("has 4 features"))
        #expect(loupeError(["snmf", "steer", "--fit", out, "--feature", "1", "--kl", "0,x"]).contains("--kl takes"))
    }

    /// The concept set's sentences, layer 15's MLP, rank 30: the best feature of some concepts
    /// detects them on held-out sentences, and adding a concept's feature raises its words.
    /// A small TopK SAE trained on the same rows joins as method sae.
    @Test func snmfFeaturesDetectAndSteerConcepts() throws {
        let dir = try captureFolder()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let concepts = root.appendingPathComponent("probes/concepts").path
        let store = dir.appendingPathComponent("acts.db").path, hook = "blocks.15.mlp.hook_post"
        _ = try runLoupe(["capture", "--prompts", concepts + "/concepts.jsonl", "--hooks", hook, "--store", store])
        let fit = dir.appendingPathComponent("fit").path
        _ = try runLoupe(["snmf", "fit", "--store", store, "--hook", hook, "--rank", "30", "--iterations", "60",
                          "--model", TestFiles.realModelPath!, "--out", fit])
        let sae = dir.appendingPathComponent("sae").path
        _ = try runLoupe(["sae", "train", "--store", store, "--hook", hook, "--architecture", "topk", "--latents", "256", "--k", "16",
                          "--tokens", "20000", "--batch-size", "256", "--lr", "1e-3", "--out", sae])
        let out = dir.appendingPathComponent("concepts").path
        let o = try json(runLoupe(["snmf", "concepts", "--fit", fit, "--concepts", concepts, "--limit", "2", "--kl", "0.25",
                                   "--steps", "4", "--neutral-count", "2", "--sae", sae, "--out", out, "--format", "json"])) as! [String: Any]
        let rows = o["rows"] as! [[String: Any]]
        #expect(rows.count == 2 * 4)
        func number(_ v: Any?) -> Double { (v as? Double) ?? Double(v as? String ?? "") ?? .nan }
        let snmf = rows.filter { $0["method"] as? String == "snmf" }
        let aucs = snmf.map { number($0["testAUC"]) }
        let raises = snmf.map { number(($0["curve"] as! [[String: Any]])[0]["raise"]) }
        // Held-out AUC well above chance for the concept the features detect best (food: 0.93
        // here), and its feature, added at KL 0.25, raises the concept's words.
        let best = aucs.indices.max { aucs[$0] < aucs[$1] }!
        #expect(aucs[best] >= 0.85, "held-out AUCs of the best SNMF features: \(aucs)")
        #expect(raises[best] > 0, "concept-word probability raises at KL 0.25: \(raises)")
        #expect(rows.allSatisfy { (0...1).contains(number($0["testAUC"])) })
        // The SAE's chosen latents: a latent index, its held-out AUC, and a direction that
        // calibrated to the KL target.
        let saeRows = rows.filter { $0["method"] as? String == "sae" }
        let saeAUCs = saeRows.map { number($0["testAUC"]) }
        print("sae rows:", saeRows.map { ($0["feature"] ?? "-", number($0["trainAUC"]), number($0["testAUC"]), number($0["purity"])) })
        #expect(saeRows.count == 2 && saeRows.allSatisfy { (0..<256).contains($0["feature"] as? Int ?? -1) })
        // The small SAE's training amplifies the activations' last bits (which differ between
        // BLAS and elementwise kernel sets): its best latent's held-out AUC has been 0.75-0.90,
        // well above chance (0.5), on the sets tried.
        #expect(saeAUCs.max()! >= 0.7, "held-out AUCs of the best SAE latents: \(saeAUCs)")
        #expect(saeRows.allSatisfy { number(($0["curve"] as! [[String: Any]])[0]["kl"]) > 0 })
        #expect(loupeError(["snmf", "concepts", "--fit", fit, "--concepts", concepts, "--sae", fit]).contains("SAE folder"))
        for name in ["concepts.txt", "concepts.csv", "concepts-steering.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        let table = try String(contentsOfFile: out + "/concepts.txt", encoding: .utf8)
        #expect(table.contains("diff-means") && table.contains("probe") && table.contains("purity") && table.contains("SAE latents"))
    }
}
