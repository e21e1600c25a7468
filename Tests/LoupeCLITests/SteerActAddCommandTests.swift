import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe steer actadd` end to end on the tiny Llama checkpoint (no default model needed).
@Suite struct SteerActAddCommandTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path

    @Test func actAddGeneratesWithAndWithoutTheEdit() throws {
        let out = try json(runLoupe(["steer", "actadd", "--model", Self.model, "--positive", "Love", "--negative", "Hate you",
                                     "--layer", "1", "--coefficient", "3", "--prompt", "The quick brown fox jumps over",
                                     "--max-tokens", "4", "--format", "json"])) as! [String: Any]
        let addition = out["addition"] as! [String: Any]
        // "Love" (3 tokens) is padded with the space token (221) to "Hate you"'s 6.
        #expect(addition["positive"] as? [Int] == [44, 79, 369, 221, 221, 221] && addition["layer"] as? Int == 1)
        #expect((out["rowNorms"] as! [Double]).count == 6)
        let g = (out["generations"] as! [[String: Any]])[0]
        #expect(g["promptTokens"] as? Int == 17 && (g["steeredTokens"] as! [Int]).count == 4)
        #expect(loupeError(["steer", "actadd", "--model", Self.model, "--positive", "Love", "--negative", "Hate you",
                            "--layer", "1", "--prompt", "The"]).contains("but the ActAdd pair has 6"))
        #expect(loupeError(["steer", "actadd", "--model", Self.model, "--positive", "a", "--negative", "b", "--layer", "7",
                            "--prompt", "The quick brown"]).contains("layer 7 is outside"))
    }
}
