import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `--weights native|f32` through the CLI: the same top tokens and probabilities (up to
/// summation order) on the default model, and an unknown format refused by name.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct WeightsOptionTests {
    @Test func nativeAndF32GiveTheSameNextTokens() throws {
        let prompt = "The capital of France is"
        func top(_ weights: String) throws -> [[String: Any]] {
            let out = try json(runLoupe(["run", "--weights", weights, "--format", "json", "--top-k", "5", prompt])) as! [String: Any]
            return out["top"] as! [[String: Any]]
        }
        let (f32, native) = (try top("f32"), try top("native"))
        #expect(f32.map { $0["id"] as? Int } == native.map { $0["id"] as? Int })
        for (a, b) in zip(f32, native) {
            #expect(abs((a["probability"] as! Double) - (b["probability"] as! Double)) < 1e-4)
        }
    }

    @Test func unknownFormatIsRefused() {
        do {
            _ = try runLoupe(["run", "--weights", "q4", "The capital of France is"])
            Issue.record("--weights q4 should be refused")
        } catch {
            let message = Loupe.message(for: error)
            #expect(message.contains("q4") && message.contains("--weights"), "\(message)")
        }
    }
}
