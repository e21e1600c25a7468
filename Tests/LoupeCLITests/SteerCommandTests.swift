import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe steer derive|apply|sweep` end to end on the default model: files, reports, errors.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SteerCommandTests {
    static let steering = TestFiles.fixtures.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("probes/steering").path

    @Test func deriveApplyAndSweep() throws {
        let dir = try captureFolder()
        let d = dir.appendingPathComponent("sentiment.json").path, cv = dir.appendingPathComponent("sentiment.gguf").path
        let derived = try json(runLoupe(["steer", "derive", "--pairs", Self.steering + "/sentiment-pairs.jsonl", "--layer", "15",
                                         "--out", d, "--gguf", cv, "--format", "json"])) as! [String: Any]
        #expect(derived["hook"] as? String == "blocks.15.hook_resid_post" && derived["width"] as? Int == 576)
        #expect((derived["separated"] as! Int) >= 125, "\(derived)")   // of 132 pairs
        let file = try json(String(contentsOfFile: d, encoding: .utf8)) as! [String: Any]
        #expect(file["format"] as? String == "loupe-steering-direction" && (file["vector"] as! [Any]).count == 576)
        let prov = file["provenance"] as! [String: Any]
        #expect(prov["source"] as? String == "mean-difference" && prov["pairs"] as? Int == 132 && prov["layer"] as? Int == 15
                && prov["positionRule"] as? String == "mean-excluding-first" && prov["dataset"] as? String == "sentiment-pairs.jsonl")
        #expect(FileManager.default.fileExists(atPath: cv))

        let out = dir.appendingPathComponent("apply").path
        let applied = try json(runLoupe(["steer", "apply", "--direction", d, "--prompt", "Today I feel", "--strengths", "gentle,strong",
                                         "--concept-tokens", " great, happy, wonderful", "--neutral", Self.steering + "/neutral.txt",
                                         "--max-tokens", "8", "--temperature", "0.8", "--seed", "3", "--out", out, "--format", "json"])) as! [String: Any]
        let settings = applied["settings"] as! [[String: Any]]
        #expect(settings.map { $0["label"] as! String } == ["gentle", "strong"])
        let base = applied["baselineConceptProbability"] as! Double
        #expect((settings[1]["conceptProbability"] as! Double) > base, "\(settings) vs \(base)")
        #expect((settings[1]["klNeutral"] as! Double) > (settings[0]["klNeutral"] as! Double))
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(Set(files).isSuperset(of: ["summary.txt", "generations.csv", "settings.csv", "index.html"]), "\(files)")
        let gens = try String(contentsOfFile: out + "/generations.csv", encoding: .utf8).split(separator: "\n")
        #expect(gens[0] == "prompt,setting,text,perplexity" && gens.count == 4)

        let sweepOut = dir.appendingPathComponent("sweep").path
        let text = try runLoupe(["steer", "sweep", "--pairs", Self.steering + "/sentiment-pairs.jsonl", "--layers", "5,15",
                                 "--strengths", "medium", "--prompt", "Today I feel", "--prompt", "My weekend was",
                                 "--concept-tokens", " great, happy", "--neutral", Self.steering + "/neutral.txt", "--out", sweepOut])
        #expect(text.contains("best with KL <=") || text.contains("no cell has KL"), "\(text)")
        let csv = try String(contentsOfFile: sweepOut + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0] == "layer,strength,norm_multiple,scale,direction_norm,typical_norm,p_concept,effect,p_probe,probe_effect,kl_neutral" && csv.count == 3)
        #expect(FileManager.default.fileExists(atPath: sweepOut + "/effect.svg") && FileManager.default.fileExists(atPath: sweepOut + "/fluency.svg"))
        let tradeoff = try String(contentsOfFile: sweepOut + "/tradeoff.svg", encoding: .utf8)
        #expect(tradeoff.components(separatedBy: "<circle").count - 1 == 2, "one point per cell")
    }

    @Test func deriveFromAStoreEqualsLivePasses() throws {
        let dir = try captureFolder()
        let sentences = [("The movie was wonderful.", "The movie was terrible."), ("I feel so happy today.", "I feel so sad today."),
                         ("The food was great.", "The food was awful.")]
        let prompts = dir.appendingPathComponent("p.jsonl").path, pairs = dir.appendingPathComponent("pairs.jsonl").path
        try sentences.flatMap { ["{\"text\": \"\($0.0)\", \"label\": 1}", "{\"text\": \"\($0.1)\", \"label\": 0}"] }
            .joined(separator: "\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        try sentences.map { "{\"positive\": \"\($0.0)\", \"negative\": \"\($0.1)\"}" }
            .joined(separator: "\n").write(toFile: pairs, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("s.db").path
        _ = try runLoupe(["capture", "--prompts", prompts, "--hooks", "blocks.12.hook_resid_post", "--store", store, "--dtype", "f32"])
        let fromStore = dir.appendingPathComponent("store.json").path, live = dir.appendingPathComponent("live.json").path
        _ = try runLoupe(["steer", "derive", "--store", store, "--label", "label", "--layer", "12", "--out", fromStore])
        _ = try runLoupe(["steer", "derive", "--pairs", pairs, "--layer", "12", "--out", live])
        let a = try json(String(contentsOfFile: fromStore, encoding: .utf8)) as! [String: Any]
        let b = try json(String(contentsOfFile: live, encoding: .utf8)) as! [String: Any]
        let va = (a["vector"] as! [Double]), vb = (b["vector"] as! [Double])
        let cos = zip(va, vb).reduce(0) { $0 + $1.0 * $1.1 } / (va.reduce(0) { $0 + $1 * $1 }.squareRoot() * vb.reduce(0) { $0 + $1 * $1 }.squareRoot())
        #expect(cos > 0.99999, "cos \(cos)")
        #expect((a["provenance"] as! [String: Any])["dataset"] as? String == "s.db")
        let wrongLabel = loupeError(["steer", "derive", "--store", store, "--label", "mood", "--layer", "12", "--out", fromStore])
        #expect(wrongLabel.contains("empty contrast set") && wrongLabel.contains("0 prompt(s) with mood = 1"), "\(wrongLabel)")
    }

    /// With --chat (apply, sweep) each prompt goes through the chat template: unsteered, the
    /// answer is the one `loupe generate --chat` gives (both greedy), and a strong edit changes it.
    @Test func chatWrapsPromptsInTheTemplate() throws {
        let dir = try captureFolder()
        let d = dir.appendingPathComponent("random.json").path
        var rng = SeededRandom(seed: 5)
        let vector = (0..<576).map { _ in String(format: "%.5f", Double(rng.nextGaussian())) }.joined(separator: ", ")
        try """
            {"format": "loupe-steering-direction", "version": 1, "hook": "blocks.12.hook_resid_post", "width": 576,
             "vector": [\(vector)], "provenance": {"source": "vector", "norm": 24, "notes": {}}}
            """.write(toFile: d, atomically: true, encoding: .utf8)
        let question = "What is the capital of Japan?"
        let applied = try json(runLoupe(["steer", "apply", "--direction", d, "--chat", "--prompt", question, "--strengths", "norm:2",
                                         "--max-tokens", "12", "--no-report", "--format", "json"])) as! [String: Any]
        let generated = try json(runLoupe(["generate", "--chat", "--max-tokens", "12", "--format", "json", question])) as! [String: Any]
        let result = (applied["prompts"] as! [[String: Any]])[0]
        let unsteered = (result["unsteered"] as! [String: Any])["tokens"] as! [Int]
        let steered = ((result["steered"] as! [[String: Any]])[0])["tokens"] as! [Int]
        #expect((result["prompt"] as! String).contains("<|im_start|>user\n" + question), "\(result["prompt"]!)")
        #expect(unsteered == generated["ids"] as! [Int], "\(unsteered) vs \(generated)")
        #expect(steered != unsteered)

        // A sweep's --chat measures p(concept) at the answer's first token: unsteered, what
        // `loupe run --chat` gives that token.
        let sweep = try json(runLoupe(["steer", "sweep", "--pairs", Self.steering + "/sentiment-pairs.jsonl", "--layers", "12",
                                       "--strengths", "gentle", "--chat", "--prompt", question, "--concept-tokens", "The",
                                       "--neutral", Self.steering + "/neutral.txt", "--no-report", "--format", "json"])) as! [String: Any]
        let ran = try json(runLoupe(["run", "--chat", "--format", "json", "--top-k", "1", question])) as! [String: Any]
        let top = (ran["top"] as! [[String: Any]])[0]
        #expect(top["token"] as? String == "The")
        let baseline = sweep["baselineConceptProbability"] as! Double, p = top["probability"] as! Double
        #expect(abs(baseline - p) < 1e-4 * p, "\(baseline) vs \(p)")
    }

    @Test func badInputsSayWhatIsWrong() throws {
        let dir = try captureFolder()
        let narrow = dir.appendingPathComponent("narrow.json").path
        try """
            {"format": "loupe-steering-direction", "version": 1, "hook": "blocks.3.hook_resid_post", "width": 3,
             "vector": [1, 2, 3], "provenance": {"source": "vector", "norm": 3.74, "notes": {}}}
            """.write(toFile: narrow, atomically: true, encoding: .utf8)
        let width = loupeError(["steer", "apply", "--direction", narrow, "--prompt", "Hi there", "--no-report"])
        #expect(width.contains("direction width mismatch") && width.contains("576") && width.contains("3 values"), "\(width)")
        let hook = loupeError(["steer", "derive", "--positive", "Love", "--negative", "Hate", "--hook", "blocks.40.hook_resid_post",
                               "--out", dir.appendingPathComponent("x.json").path])
        #expect(hook.contains("blocks.40.hook_resid_post"), "\(hook)")
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try "\n\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let noPairs = loupeError(["steer", "derive", "--pairs", empty, "--out", dir.appendingPathComponent("y.json").path])
        #expect(noPairs.contains("empty contrast set"), "\(noPairs)")
        let strength = loupeError(["steer", "apply", "--direction", narrow, "--prompt", "a", "--strengths", "loud"])
        #expect(strength.contains("unknown strength 'loud'"), "\(strength)")
        let ablateTo = loupeError(["steer", "apply", "--direction", narrow, "--prompt", "a", "--ablate-to", "neutral-mean"])
        #expect(ablateTo.contains("go with --mode ablate"), "\(ablateTo)")
        let two = loupeError(["steer", "derive", "--pairs", empty, "--positive", "a", "--negative", "b", "--out", "z.json"])
        #expect(two.contains("exactly one source"), "\(two)")
        let short = loupeError(["steer", "derive", "--positive", "Love", "--negative", "Hate", "--position-rule", "mean-excluding-first",
                                "--out", dir.appendingPathComponent("w.json").path])
        #expect(short.contains("has 1 token"), "\(short)")
        let help = loupeError(["steer", "--help"])
        #expect(help.contains("derive") && help.contains("attention sink"), "\(help)")
    }
}
