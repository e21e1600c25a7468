import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// One subject locator: a subject that occurs twice in a prompt is its first occurrence (as
/// in ROME) for `capture --positions subject` (and so for probes read at the subject),
/// `trace` and `knockout` alike.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct SubjectLocationTests {
    @Test func aSubjectThatOccursTwiceIsItsFirstOccurrenceEverywhere() throws {
        let dir = try captureFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompt = "The Eiffel Tower is in Paris, and the Eiffel Tower is located in the city of"
        let prompts = dir.appendingPathComponent("twice.jsonl")
        try "{\"text\": \"\(prompt)\", \"subject\": \"Eiffel Tower\", \"label\": 1}\n".write(to: prompts, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("twice.db").path

        let trace = try json(runLoupe(["trace", "--prompt", prompt, "--subject", "Eiffel Tower", "--kinds", "state",
                                       "--samples", "1", "--no-report", "--format", "json"])) as! [String: Any]
        let traced = try #require(trace["subject"] as? [Int])
        // "The| E|iffel| Tower| is| in| Paris|,| and| the| E|iffel| Tower|...": the first
        // occurrence is tokens 1..<4, the second starts at 10.
        #expect(traced == [1, 4], "\(traced)")
        // Each cell's indirect effect is in the JSON: restored p minus corrupted p.
        let grid = (trace["grids"] as! [String: Any])["state"] as! [[Double]]
        let effects = (trace["indirectEffects"] as! [String: Any])["state"] as! [[Double]]
        let corrupted = trace["corruptedProbability"] as! Double
        #expect(effects.count == grid.count && zip(grid.joined(), effects.joined()).allSatisfy { abs($0 - corrupted - $1) < 1e-12 })

        let knockout = try json(runLoupe(["knockout", "--prompt", prompt, "--subject", "Eiffel Tower", "--blocks", "subject",
                                          "--no-report", "--format", "json"])) as! [String: Any]
        #expect(knockout["subject"] as? [Int] == traced)

        _ = try runLoupe(["capture", "--prompts", prompts.path, "--hooks", "blocks.0.hook_resid_post",
                          "--positions", "subject", "--store", store])
        let shown = try json(runLoupe(["store", "show", store, "--format", "json"])) as! [String: Any]
        let stored = try #require((shown["prompts"] as? [[String: Any]])?.first?["positions"] as? [Int])
        #expect(stored == [traced[1] - 1], "the capture keeps the last token of the first occurrence: \(stored)")
    }
}
