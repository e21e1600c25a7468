import Analyses
import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Models
import Store
import Testing

/// `loupe sae features` on a real-model capture with a hand-built SAE whose latents read
/// coordinates: latent i is `max(x_i, 0)` and writes the basis vector e_i. What the report
/// must say (firing counts, largest activations and where, what a latent promotes) then
/// follows from the stored rows and the model's weights, recomputed here without the SAE.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SAEFeaturesTests {
    static let hook = "blocks.6.hook_resid_post"

    /// A standard SAE over width 576 with 4 latents: W_enc[:, i] = e_i, W_dec[i] = e_i, no biases.
    static func coordinateSAE(in dir: URL) throws -> String {
        var p = try SAEParameters(width: 576, latents: 4)
        p.wEnc = [Float](repeating: 0, count: 576 * 4)
        p.wDec = [Float](repeating: 0, count: 4 * 576)
        for i in 0..<4 { p.wEnc[i * 4 + i] = 1; p.wDec[i * 576 + i] = 1 }
        (p.bEnc, p.bDec) = ([Float](repeating: 0, count: 4), [Float](repeating: 0, count: 576))
        let path = dir.appendingPathComponent("coords").path
        try SAEFolder.save(StandardSAE(parameters: p), metadata: SAEMetadata(hookName: hook), to: path)
        return path
    }

    @Test func reportCountsFiringsTopContextsAndVocabularyFromTheStoredRows() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.txt").path
        try """
            The Eiffel Tower is located in the city of Paris.
            My favourite fruits are apples, bananas and ripe oranges.
            The function returns an array of integers sorted in ascending order.
            Water boils at one hundred degrees Celsius at sea level.
            """.write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("acts.db").path
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", Self.hook, "--store", store])
        let sae = try Self.coordinateSAE(in: dir)
        let out = dir.appendingPathComponent("report").path
        let summary = try json(runLoupe(["sae", "features", "--sae", sae, "--store", store, "--latents", "0,2",
                                         "--top", "5", "--out", out, "--format", "json"])) as! [String: Any]

        // The rows, read here without the SAE: coordinate i of every row after position 0.
        let db = try ActivationStore(path: store)
        let capture = try db.capture(id: try db.captureSummary(choosing: nil).id)
        var reader = try ActivationReader(store: db, capture: capture, hook: Self.hook, batchSize: 1000)
        var rows: [(prompt: Int, position: Int, x: [Float])] = []
        while let b = try reader.nextBatch() {
            for r in 0..<b.rows.shape[0] where b.positions[r] != 0 {
                rows.append((b.promptIndices[r], b.positions[r], Array(b.rows.scalars[(r * 576)..<(r * 576 + 4)])))
            }
        }
        let skipped = summary["skipped"] as! [String: Int]
        #expect(skipped["position 0"] == 4 && skipped["outlier"] == 0, "\(skipped)")
        #expect(summary["rows"] as? Int == rows.count && summary["shown"] as? [Int] == [0, 2])
        let meanL0 = Double(rows.reduce(0) { $0 + $1.x.filter { $0 > 0 }.count }) / Double(rows.count)
        #expect(abs((summary["meanL0"] as! Double) - meanL0) < 1e-9)

        let latents = try String(contentsOfFile: out + "/latents.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(latents.count == 5 && latents[0].prefix(5) == ["latent", "fired", "density", "max_activation", "mean_activation"])
        for i in 0..<4 {
            let fired = rows.filter { $0.x[i] > 0 }.count
            let high = rows.map { max($0.x[i], 0) }.max()!
            #expect(Int(latents[i + 1][1]) == fired, "latent \(i): \(latents[i + 1]) vs \(fired) firings")
            #expect(abs(Double(latents[i + 1][3])! - Double(high)) <= 1e-5 * Double(max(high, 1)), "latent \(i)")
        }
        // Latent 2's top context is the row with the largest coordinate 2, in order.
        let contexts = try String(contentsOfFile: out + "/contexts.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let top2 = contexts.filter { $0[0] == "2" && $0[1] == "top" }
        let expected = rows.filter { $0.x[2] > 0 }.sorted { $0.x[2] > $1.x[2] }.prefix(5)
        #expect(top2.count == expected.count)
        for (line, row) in zip(top2, expected) {
            #expect(Int(line[4]) == row.prompt && Int(line[5]) == row.position, "\(line) vs \(row.prompt):\(row.position)")
        }
        // Quartile bands come from the sample below the top list: each is one of latent 2's
        // firings, none is a top row, and bands run from high to low.
        let firing2 = Set(rows.filter { $0.x[2] > 0 }.map { "\($0.prompt):\($0.position)" })
        let topRows = Set(top2.map { "\($0[4]):\($0[5])" })
        let banded = contexts.filter { $0[0] == "2" && $0[1].hasSuffix("percentile") }
        #expect(!banded.isEmpty && banded.allSatisfy { firing2.contains("\($0[4]):\($0[5])") && !topRows.contains("\($0[4]):\($0[5])") })
        let bandValues = banded.map { Double($0[3])! }
        #expect(bandValues == bandValues.sorted(by: >) && bandValues.allSatisfy { $0 <= Double(top2.last![3])! })

        // The vocabulary lens of e_0: the tokens with the largest gain[0] · unembed[t, 0].
        let model = try RealModel.shared().transformer
        let vocab = model.weights.unembed.shape[0], gain0 = model.weights.finalNorm.scalars[0]
        let unembed = model.weights.unembed.dense().scalars
        let column = (0..<vocab).map { Double(unembed[$0 * 576]) * Double(gain0) }
        let best = column.indices.max { column[$0] < column[$1] }!
        let vocabulary = try String(contentsOfFile: out + "/vocabulary.csv", encoding: .utf8).split(separator: "\n")
        #expect(vocabulary.first == "latent,effect,rank,token_id,token,logit")
        let first = vocabulary[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(first[0] == "0" && first[1] == "promotes" && Int(first[3]) == best, "\(vocabulary[1]) vs token \(best)")

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(files.isSuperset(of: ["index.html", "latent-0.html", "latent-2.html", "density.svg", "summary.txt", "l0.csv"]), "\(files)")
        #expect(!files.contains("latent-1.html"))
        let page = try String(contentsOfFile: out + "/latent-2.html", encoding: .utf8)
        #expect(page.contains("<mark") && page.contains("Top activations"))

        // Bad input: a latent the SAE lacks, a store without the hook.
        #expect(loupeError(["sae", "features", "--sae", sae, "--store", store, "--latents", "4", "--out", out]).contains("outside the SAE's 4 latents"))
        #expect(loupeError(["sae", "features", "--sae", sae, "--store", store, "--hook", "blocks.7.hook_resid_post", "--out", out])
                    .contains("blocks.7.hook_resid_post"))
        #expect(loupeError(["sae", "features", "--sae", sae, "--store", store, "--latents", "1,x", "--out", out]).contains("--latents takes"))
    }
}
