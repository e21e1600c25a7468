import Analyses
import Formats
import Foundation
import Linalg
import Models
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe snmf fit` end to end on a small .npy: the report files, the saved result and errors.
struct SNMFCommandTests {
    /// A `[n, d]` Gaussian .npy in a fresh folder; `nanRow` poisons one row.
    static func matrix(n: Int, d: Int, nanRow: Int? = nil) throws -> (dir: URL, path: String) {
        let dir = try captureFolder()
        var rng = SeededRandom(seed: 5)
        var scalars = (0..<(n * d)).map { _ in rng.nextGaussian() }
        if let nanRow { scalars[nanRow * d] = .nan }
        let path = dir.appendingPathComponent("x.npy").path
        try NumPyArray.write(Tensor(shape: [n, d], scalars: scalars), to: path)
        return (dir, path)
    }

    @Test func fitWritesTheReportAndEverySetting() throws {
        let (dir, input) = try Self.matrix(n: 80, d: 20)
        let out = dir.appendingPathComponent("report").path
        let summary = try json(runLoupe(["snmf", "fit", "--input", input, "--rank", "3", "--sparsity", "0.25", "--init", "random",
                                         "--seed", "9", "--iterations", "20", "--tolerance", "0", "--patience", "50",
                                         "--save-codes", "--out", out, "--format", "json"])) as! [String: Any]
        #expect(summary["tokens"] as? Int == 80 && summary["neurons"] as? Int == 20 && summary["rank"] as? Int == 3)
        #expect(summary["iterations"] as? Int == 20)
        let relative = try #require(summary["relativeError"] as? Double)
        #expect(relative > 0 && relative < 1)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(files.isSuperset(of: ["summary.txt", "loss.csv", "loss.svg", "features.csv", "snmf.json", "index.html"]), "\(files)")
        let index = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        #expect(index.contains("Feature 2") && !index.contains("<mark"), "no store rows, so no token contexts")
        #expect(!files.contains("tokens.csv"))
        let loss = try String(contentsOfFile: out + "/loss.csv", encoding: .utf8).split(separator: "\n")
        #expect(loss.first == "iteration,loss,relative_error" && loss.count == 22)
        let features = try String(contentsOfFile: out + "/features.csv", encoding: .utf8).split(separator: "\n")
        #expect(features.first == "feature,rank,neuron,weight")
        // 25% of 20 neurons: 5 kept per feature, so at most 5 rows each.
        #expect(features.count - 1 <= 15 && features.count - 1 >= 3)
        let text = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8)
        #expect(text.contains("--sparsity 0.25") && text.contains("random (seed 9)"), "\(text)")
        let saved = try SNMFFile.load(path: out + "/snmf.json")
        #expect(saved.config == SemiNMF.Config(rank: 3, sparsity: 0.25, ridge: 1e-6, initialization: .random, seed: 9,
                                               iterations: 20, tolerance: 0, patience: 50))
        #expect(saved.source == input && saved.tokens == 80 && saved.neurons == 20 && saved.losses.count == 21)
        #expect(saved.features.count == 3 && saved.features.allSatisfy { $0.count == 20 && $0.filter { $0 != 0 }.count <= 5 })
        #expect(saved.codes?.count == 3 && saved.codes!.allSatisfy { $0.count == 80 && $0.allSatisfy { $0 >= 0 } })
        #expect(abs(saved.relativeErrors[saved.bestIteration] - relative) < 1e-12)
    }

    @Test func badInputGivesClearErrors() throws {
        let (_, input) = try Self.matrix(n: 10, d: 4)
        #expect(loupeError(["snmf", "fit", "--input", input, "--rank", "5"]).contains("rank 5 is outside 1...4"))
        let (_, poisoned) = try Self.matrix(n: 10, d: 4, nanRow: 6)
        #expect(loupeError(["snmf", "fit", "--input", poisoned, "--rank", "2"]).contains("row 6 of"))
        #expect(loupeError(["snmf", "fit", "--rank", "2"]).contains("exactly one of --input or --store"))
    }
}

/// Semi-NMF of the default model's layer-15 MLP activations from a small store capture.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SNMFRealModelTests {
    @Test func storeRowsFitMonotonicallyBelowTheSVDStart() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.txt").path
        try """
            The Eiffel Tower is located in the city of Paris, which is the capital of France.
            My favourite fruits are apples, bananas and ripe oranges from the market.
            The function returns an array of integers sorted in ascending order.
            She played the violin beautifully at the concert last night.
            Water boils at one hundred degrees Celsius at sea level.
            The stock market fell sharply after the central bank raised interest rates.
            """.write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("acts.db").path
        let hook = "blocks.15.mlp.hook_post"
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", hook, "--store", store])
        let rows = try SNMFRows.read(store: store, capture: nil, hook: hook)
        #expect(rows.neurons == 1536 && rows.tokens > 50 && rows.origins.allSatisfy { $0.position > 0 })
        let config = SemiNMF.Config(rank: 8, sparsity: 0, initialization: .svd, iterations: 30, tolerance: 0, patience: 100)
        let result = try SemiNMF(config: config).fit(rows)
        #expect(result.losses.count == 31)
        var worst = 0.0
        for i in 1..<result.losses.count { worst = max(worst, (result.losses[i] - result.losses[i - 1]) / result.totalSquares) }
        // As in SNMFTests: float32 rounding of the cached products, relative to ‖A‖².
        #expect(worst <= 1e-6, "largest rise \(worst) of ‖A‖²")
        #expect(result.relativeError < result.relativeErrors[0], "\(result.relativeErrors[0]) -> \(result.relativeError)")
        #expect(result.codes.allSatisfy { $0 >= 0 })

        // Streamed from the store, 50 rows at a time: the same rows, origins and fit.
        let stream = try SNMFStoreStream(store: store, capture: nil, hook: hook)
        #expect(stream.tokens == rows.tokens && stream.source == rows.source)
        let every = Set(0..<rows.tokens)
        let (read, kept) = (try stream.origins(of: every), try rows.origins(of: every))
        #expect(read.rows == kept.rows && read.rows.count == rows.tokens)
        let streamed = try SemiNMF(config: config).fit(chunks: stream, chunkRows: 50)
        for (a, b) in zip(streamed.losses, result.losses) { #expect(abs(a - b) <= 1e-5 * result.totalSquares, "\(a) vs \(b)") }
        #expect(streamed.losses.count == result.losses.count)
        let streamedJSON = try json(runLoupe(["snmf", "fit", "--store", store, "--hook", hook, "--rank", "8", "--sparsity", "0",
                                              "--iterations", "30", "--tolerance", "0", "--patience", "100", "--stream",
                                              "--chunk-rows", "64", "--out", dir.appendingPathComponent("streamed").path,
                                              "--format", "json"])) as! [String: Any]
        #expect(abs((streamedJSON["relativeError"] as! Double) - result.relativeError) < 1e-4)
        #expect(loupeError(["snmf", "fit", "--input", "x.npy", "--rank", "2", "--stream"]).contains("--stream reads a --store"))

        // A two-level hierarchy on the same rows: level 2 mixes level 1's features.
        let tree = dir.appendingPathComponent("tree").path
        _ = try runLoupe(["snmf", "fit", "--store", store, "--hook", hook, "--rank", "8", "--hierarchy", "3", "--sweeps", "10",
                          "--iterations", "30", "--out", tree])
        let edges = try String(contentsOfFile: tree + "/hierarchy.csv", encoding: .utf8).split(separator: "\n")
        #expect(edges.first == "level,feature,rank,child_level,child,weight" && edges.count == 1 + 3 * 5, "\(edges.count)")
        let summaryText = try String(contentsOfFile: tree + "/hierarchy.txt", encoding: .utf8)
        #expect(summaryText.contains("level 2 rank 3, pretrained") && summaryText.contains("fine-tuned"))
        let sweepsCSV = try String(contentsOfFile: tree + "/hierarchy-loss.csv", encoding: .utf8).split(separator: "\n")
        let tuned = sweepsCSV.dropFirst().map { Double($0.split(separator: ",")[1])! }
        #expect(tuned.count == 11 && tuned.min()! <= tuned[0], "fine-tuning never ends above the stacked levels: \(tuned)")
        #expect(loupeError(["snmf", "fit", "--input", "x.npy", "--rank", "4", "--hierarchy", "4,x"]).contains("--hierarchy takes"))

        // The command on the same store: token text and context from the model's tokenizer.
        let out = dir.appendingPathComponent("report").path
        _ = try runLoupe(["snmf", "fit", "--store", store, "--hook", hook, "--rank", "4", "--iterations", "5",
                          "--model", TestFiles.realModelPath!, "--out", out])
        let tokens = try String(contentsOfFile: out + "/tokens.csv", encoding: .utf8).split(separator: "\n")
        #expect(tokens.first == "feature,rank,code,prompt,position,token_id,token,context")
        #expect(tokens.count == 1 + 4 * 10)
        #expect(tokens.dropFirst().allSatisfy { $0.contains("[") }, "\(tokens.prefix(3))")
        // The page: each feature's top tokens marked in context (10 per feature), its vocabulary.
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        #expect(page.components(separatedBy: "<mark").count - 1 == 4 * 10 && page.contains("Promotes: "))

        // The vocabulary lens: feature 0's top promoted token, recomputed in Double from the weights.
        let vocabulary = try String(contentsOfFile: out + "/vocabulary.csv", encoding: .utf8).split(separator: "\n")
        // (token text may hold a quoted newline, so count the lines that start a record)
        let records = vocabulary.filter { $0.contains(",promotes,") || $0.contains(",suppresses,") }
        #expect(vocabulary.first == "feature,effect,rank,token_id,token,logit" && records.count == 4 * 2 * 10, "\(records.count)")
        let top = vocabulary[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(top[0] == "0" && top[1] == "promotes" && top[2] == "1")
        let lensModel = try RealModel.shared().transformer.weights
        let z0 = try SNMFFile.load(path: out + "/snmf.json").features[0]
        let wDown = lensModel.layers[15].wDown.dense(), unembed = lensModel.unembed.dense(), (dm, dff) = (wDown.shape[0], wDown.shape[1])
        let tokenID = Int(top[3])!
        var logit = 0.0
        for j in 0..<dm {
            var image = 0.0
            for i in 0..<dff { image += Double(wDown.scalars[j * dff + i]) * Double(z0[i]) }
            logit += Double(unembed.scalars[tokenID * dm + j]) * Double(lensModel.finalNorm.scalars[j]) * image
        }
        #expect(abs(logit - Double(top.last!)!) <= 1e-3 * max(1, abs(logit)), "\(logit) vs \(top.last!)")

        // A feature as a steering direction: the unit neuron group at hook_post, and its
        // residual image at hook_resid_post, which must steer the pass identically.
        let atPost = dir.appendingPathComponent("z.json").path, atResid = dir.appendingPathComponent("wz.json").path
        _ = try runLoupe(["steer", "derive", "--snmf", out + "/snmf.json", "--feature", "1", "--out", atPost])
        _ = try runLoupe(["steer", "derive", "--snmf", out + "/snmf.json", "--feature", "1",
                          "--hook", "blocks.15.hook_resid_post", "--out", atResid])
        let z = try SteeringDirection.load(from: atPost), wz = try SteeringDirection.load(from: atResid)
        let fitted = try SNMFFile.load(path: out + "/snmf.json").features[1]
        let fittedNorm = fitted.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(z.hook == hook && z.provenance.source == "snmf-feature" && abs(z.norm - 1) < 1e-5)
        #expect(zip(z.vector, fitted).allSatisfy { abs(Double($0) - Double($1) / fittedNorm) < 1e-6 })
        #expect(wz.hook == "blocks.15.hook_resid_post" && wz.width == 576)
        let m = try RealModel.shared()
        let ids = try m.tokenizer.encode("I think that")
        var viaPost = HookSet(), viaResid = HookSet()
        viaPost.add(z.vector, at: .mlpPost(15), scale: 40)
        viaResid.add(wz.vector, at: .residPost(15), scale: 40)
        let plain = try m.transformer.forward([ids]).logits[0].scalars
        let a = try m.transformer.forward([ids], hooks: viaPost).logits[0].scalars
        let b = try m.transformer.forward([ids], hooks: viaResid).logits[0].scalars
        let moved = zip(a, plain).map { abs($0 - $1) }.max()!, apart = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(moved > 0.05, "the edit moves the logits: \(moved)")
        #expect(apart < 1e-3 * max(moved, 1), "hook_post and its residual image agree: \(apart) (edit moved \(moved))")
        #expect(loupeError(["steer", "derive", "--snmf", out + "/snmf.json", "--feature", "9", "--out", atPost]).contains("has 4 features"))
        #expect(loupeError(["steer", "derive", "--snmf", out + "/snmf.json", "--feature", "1", "--hook", "blocks.3.hook_resid_post",
                            "--out", atPost]).contains("not at blocks.3.hook_resid_post"))
    }
}
