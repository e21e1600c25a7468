import Foundation
import LoupeCLI
import LoupeTestSupport
import Probes
import Store
import Testing

/// The repository root (for probes/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func probeDataset(_ name: String) -> String { repositoryRoot.appendingPathComponent("probes/\(name)").path }

/// Per-layer rows of a `probe train --format json` output, by layer.
func probeLayers(_ out: String) throws -> [Int: [String: Any]] {
    let o = try json(out) as! [String: Any]
    var byLayer: [Int: [String: Any]] = [:]
    for l in o["layers"] as! [[String: Any]] { byLayer[l["layer"] as! Int] = l }
    return byLayer
}

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct ProbeCommandTests {
    /// Subject category is lexical: it decodes almost perfectly from the first layers on.
    /// Truth of a factual statement is not: near chance early, best in the middle layers.
    @Test func categoryDecodesEarlyAndTruthOnlyInTheMiddle() throws {
        let dir = try captureFolder()
        let store = dir.appendingPathComponent("s.db").path
        let model = ProcessInfo.processInfo.environment["LOUPE_MODEL"] ?? TestFiles.realModelPath!

        let categoryOut = dir.appendingPathComponent("category").path
        let category = try probeLayers(runLoupe([
            "probe", "train", "--store", store, "--dataset", probeDataset("subject-category"), "--hooks",
            "blocks.[0-5].hook_resid_post", "--model", model, "--out", categoryOut, "--format", "json"]))
        #expect(category.count == 6)
        for layer in 1...5 {
            let l = category[layer]!
            #expect((l["testAccuracy"] as! Double) >= 0.95, "layer \(layer): \(l)")
            // Each subject occurs once: control labels cannot be memorized across the split.
            #expect((l["controlAccuracy"] as! Double) <= 0.45, "layer \(layer): \(l)")
        }

        // Another model's --model on this store: refused, not trained on the store's activations.
        let other = TemporaryDirectory()
        defer { other.remove() }
        let tiny = other.write("tiny.gguf", TinyGGUF.bytes(try TinyModels.model(TinyModels.llamaConfig())))
        let refused = loupeError([
            "probe", "train", "--store", store, "--dataset", probeDataset("subject-category"), "--hooks",
            "blocks.[0-5].hook_resid_post", "--model", tiny, "--out", categoryOut])
        #expect(refused.contains("\(store) holds activations of") && refused.contains("not of --model"), "\(refused)")

        let truthOut = dir.appendingPathComponent("truth").path
        let truth = try probeLayers(runLoupe([
            "probe", "train", "--store", store, "--dataset", probeDataset("facts-true-false"),
            "--model", model, "--out", truthOut, "--format", "json"]))
        #expect(truth.count == 30)
        let test = (0..<30).map { truth[$0]!["testAccuracy"] as! Double }
        let cv = (0..<30).map { truth[$0]!["cvMean"] as! Double }
        #expect(cv[0...2].allSatisfy { $0 < 0.6 }, "early layers should be near chance: \(cv)")
        let middle = cv[8...20].max()!
        #expect(middle >= 0.62 && middle <= 0.85, "middle layers: \(cv)")
        #expect(test.max()! < 0.9)

        // The report folder and the saved probe.
        for f in ["summary.txt", "layers.csv", "layers.svg", "confusion.csv", "confusion.svg", "index.html", "best-probe.json",
                  "probe-blocks.12.hook_resid_post.json"] {
            #expect(FileManager.default.fileExists(atPath: truthOut + "/" + f), "\(f)")
        }
        let csv = try String(contentsOfFile: truthOut + "/layers.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 31)
        #expect(csv.hasPrefix("hook,layer,train_accuracy,test_accuracy,cv_mean,cv_std,control_accuracy,selectivity"))

        // Applying the saved category probe to unseen subjects through a live pass.
        let applied = try json(runLoupe([
            "probe", "apply", "--probe", categoryOut + "/best-probe.json", "--format", "json",
            "--prompt", "My friend keeps talking about the lemur.", "--subject", "the lemur"])) as! [String: Any]
        let entry = (applied["entries"] as! [[String: Any]])[0]
        #expect(entry["predicted"] as? String == "animal", "\(entry)")
        let probs = entry["probabilities"] as! [String: Double]
        #expect(abs(probs.values.reduce(0, +) - 1) < 1e-6)
    }

    @Test func badInputGivesClearErrors() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.jsonl").path
        try (0..<8).map { "{\"text\": \"Sentence number \($0) is here.\", \"same\": \"a\", \"label\": \"\($0 % 2)\"\($0 == 3 ? ", \"partial\": 1" : "")}" }
            .joined(separator: "\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("s.db").path
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", "blocks.[0-1].hook_resid_post", "--positions", "last", "--store", store])

        let oneClass = loupeError(["probe", "train", "--store", store, "--label", "same", "--hooks", "blocks.0.hook_resid_post", "--out", dir.path + "/r"])
        #expect(oneClass.contains("label 'same' has one class only ('a')"), "\(oneClass)")
        let missing = loupeError(["probe", "train", "--store", store, "--label", "partial", "--hooks", "blocks.0.hook_resid_post", "--out", dir.path + "/r"])
        #expect(missing.contains("7 example(s) have no 'partial' label"), "\(missing)")
        let hook = loupeError(["probe", "train", "--store", store, "--label", "label", "--hooks", "blocks.5.hook_resid_post", "--out", dir.path + "/r"])
        #expect(hook.contains("hook 'blocks.5.hook_resid_post' is not captured"), "\(hook)")
        let unknown = loupeError(["probe", "train", "--store", store, "--label", "label", "--hooks", "blocks.*.hook_resid_pots", "--out", dir.path + "/r"])
        #expect(unknown.contains("matches no hook point"), "\(unknown)")
        let free = loupeError(["probe", "train", "--store", store, "--label", "label", "--hooks", "blocks.0.hook_resid_post",
                               "--c", "none", "--folds", "0", "--no-control", "--out", dir.path + "/r"])
        #expect(free.contains("576 features and only 6 training rows with no regularization"), "\(free)")
        let noStore = loupeError(["probe", "train", "--store", dir.path + "/none.db", "--label", "label"])
        #expect(noStore.contains("store not found"), "\(noStore)")
        let noDataset = loupeError(["probe", "train", "--store", store, "--dataset", probeDataset("sentiment"), "--out", dir.path + "/r"])
        #expect(noDataset.contains("no capture of sentiment.jsonl at positions last"), "\(noDataset)")
        let noWord = loupeError(["probe", "train", "--store", store, "--label", "label", "--word", "nothing", "--hooks", "blocks.0.hook_resid_post", "--out", dir.path + "/r"])
        #expect(noWord.contains("the control task needs the word field 'nothing'"), "\(noWord)")
        let badProbe = loupeError(["probe", "apply", "--probe", prompts, "--prompt", "x"])
        #expect(badProbe.contains("not a Loupe probe file"), "\(badProbe)")
    }

    /// `--label` on any capture; the saved probe applied through a live pass gives the same
    /// probabilities as the probe applied to the stored (f32) rows; ridge, difference of
    /// means and the mean position run.
    @Test func savedProbeAppliedLiveMatchesTheStoredRows() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.jsonl").path
        let words = ["apple", "stone", "river", "cloud", "chair", "tiger", "bread", "glass", "piano", "candle", "lemon", "tower"]
        try words.enumerated().flatMap { i, w in
            ["{\"text\": \"I really like the \(w).\", \"word\": \"\(w)\", \"label\": \"like\"}",
             "{\"text\": \"I really hate the \(w).\", \"word\": \"\(w)\", \"label\": \"hate\"}"]
        }.joined(separator: "\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("s.db").path
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", "blocks.[3-4].hook_resid_post", "--positions", "all",
                          "--dtype", "f32", "--store", store])
        let out = dir.appendingPathComponent("r").path
        let trained = try json(runLoupe(["probe", "train", "--store", store, "--label", "label", "--word", "word", "--position", "last",
                                         "--hooks", "blocks.[3-4].hook_resid_post", "--folds", "3", "--out", out, "--format", "json"])) as! [String: Any]
        #expect(trained["examples"] as? Int == 24 && trained["classes"] as? [String] == ["hate", "like"])
        let file = try ProbeFile.load(out + "/best-probe.json")
        #expect(file.hook == trained["best"] as? String && file.position == .last && file.label == "label")

        let db = try ActivationStore(path: store)
        let capture = try db.captures()[0]
        let m = try ProbeData.load(store: db, capture: capture, hook: file.hook, position: .last, label: "label", word: "word")
        let expected = file.probe.probabilities(m.x, rows: m.rows)
        let applied = try json(runLoupe(["probe", "apply", "--probe", out + "/best-probe.json", "--input", prompts, "--format", "json"])) as! [String: Any]
        let entries = applied["entries"] as! [[String: Any]]
        #expect(entries.count == 24)
        var right = 0
        for (i, e) in entries.enumerated() {
            let p = e["probabilities"] as! [String: Double]
            #expect(abs(p["like"]! - expected[i][1]) < 1e-4 && abs(p["hate"]! - expected[i][0]) < 1e-4, "prompt \(i): \(p) vs \(expected[i])")
            if e["predicted"] as? String == e["label"] as? String { right += 1 }
        }
        #expect(abs((applied["accuracy"] as! Double) - Double(right) / 24) < 1e-12)

        for kind in ["ridge", "diffmeans"] {
            let o = try json(runLoupe(["probe", "train", "--store", store, "--label", "label", "--word", "word", "--probe", kind,
                                       "--hooks", "blocks.[3-4].hook_resid_post", "--folds", "3", "--out", out + kind, "--format", "json"])) as! [String: Any]
            let layers = o["layers"] as! [[String: Any]]
            #expect(layers.count == 2 && layers.allSatisfy { (0...1).contains($0["testAccuracy"] as! Double) }, "\(kind)")
            #expect(try ProbeFile.load(out + kind + "/best-probe.json").probe.kind.rawValue == kind)
        }
        let mean = try json(runLoupe(["probe", "train", "--store", store, "--label", "label", "--position", "mean",
                                      "--hooks", "blocks.4.hook_resid_post", "--folds", "0", "--out", out + "mean", "--format", "json"])) as! [String: Any]
        #expect(mean["position"] as? String == "mean" && (mean["layers"] as! [[String: Any]]).count == 1)
        // A mean reading needs every position: a last-position capture cannot give it.
        let store2 = dir.appendingPathComponent("s2.db").path
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", "blocks.4.hook_resid_post", "--positions", "last", "--store", store2])
        let noMean = loupeError(["probe", "train", "--store", store2, "--label", "label", "--position", "mean", "--hooks", "blocks.4.hook_resid_post"])
        #expect(noMean.contains("at positions all"), "\(noMean)")
    }
}
