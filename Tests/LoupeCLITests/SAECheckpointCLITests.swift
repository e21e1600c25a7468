import Formats
import Foundation
import Linalg
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe sae train --checkpoint-every` on the tiny Llama checkpoint, from a store and from a
/// live corpus: a run stopped after a step (--stop-after) and rerun with the same command
/// resumes, says so, and writes the same weights file, byte for byte, as a run never stopped;
/// a rerun with another option is refused by name; a `kill -9` mid-run resumes the same way.
@Suite(.serialized) struct SAECheckpointCLITests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
    static let prompts = (0..<14).map { "{\"text\": \"prompt \($0): the quick brown fox \(String(repeating: "jumps ", count: $0 % 5))over the lazy dog\"}" }
        .joined(separator: "\n")

    func weights(_ dir: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: dir + "/sae_weights.safetensors")) }

    /// Trains straight into `dir/a`, stopped at `stop` then rerun into `dir/b`; returns both weights and the rerun's output.
    func straightAndResumed(_ dir: String, _ args: [String], stop: Int) throws -> (Data, Data, String) {
        _ = try runLoupe(args + ["--out", dir + "/a"])
        let stopped = try runLoupe(args + ["--out", dir + "/b", "--stop-after", String(stop)])
        #expect(stopped.contains("stopped after step \(stop)/"), "\(stopped)")
        #expect(FileManager.default.fileExists(atPath: dir + "/b/training-checkpoint.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/b/sae_weights.safetensors"))
        let resumed = try runLoupe(args + ["--out", dir + "/b"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/b/training-checkpoint.safetensors"), "removed once the SAE is written")
        return (try weights(dir + "/a"), try weights(dir + "/b"), resumed)
    }

    @Test(arguments: ["topk", "standard"])
    func storeRunResumesByteForByte(_ architecture: String) throws {
        let dir = try captureFolder().path
        try Self.prompts.write(toFile: dir + "/p.jsonl", atomically: true, encoding: .utf8)
        _ = try runLoupe(["capture", "--model", Self.model, "--prompts", dir + "/p.jsonl", "--hooks", "blocks.0.hook_resid_post",
                          "--dtype", "f32", "--store", dir + "/s.db"])
        let args = ["sae", "train", "--store", dir + "/s.db", "--hook", "blocks.0.hook_resid_post", "--architecture", architecture,
                    "--latents", "48", "--k", "4", "--l1", "0.5", "--lr", "0.003", "--batch-size", "24", "--tokens", String(24 * 30),
                    "--seed", "3", "--checkpoint-every", "4"]
        let (a, b, said) = try straightAndResumed(dir, args, stop: 11)
        #expect(said.contains("resumed from step 11"), "\(said)")
        #expect(a == b, "\(architecture): the resumed run's weights differ from the straight run's")
        // Another option on a rerun is refused, naming it.
        _ = try runLoupe(args + ["--out", dir + "/c", "--stop-after", "5"])
        let refused = loupeError(args.map { $0 == "0.003" ? "0.002" : $0 } + ["--out", dir + "/c"])
        #expect(refused.contains("learningRate") && refused.contains("delete the checkpoint"), "\(refused)")
    }

    @Test(arguments: ["topk", "standard"])
    func corpusRunResumesByteForByte(_ architecture: String) throws {
        let dir = try captureFolder().path
        let text = (0..<30).map { "Document \($0): the quick brown fox \(String(repeating: "jumps over ", count: 1 + $0 % 4))the lazy dog again." }
            .joined(separator: "\n\n")
        try text.write(toFile: dir + "/c.txt", atomically: true, encoding: .utf8)
        let args = ["sae", "train", "--model", Self.model, "--corpus", dir + "/c.txt", "--context", "8", "--min-window", "2",
                    "--hook", "blocks.1.hook_resid_post", "--buffer-rows", "40", "--windows-per-pass", "3", "--architecture", architecture,
                    "--latents", "48", "--k", "4", "--l1", "0.5", "--lr", "0.003", "--batch-size", "16", "--tokens", String(16 * 40),
                    "--seed", "5", "--checkpoint-every", "6", "--b-dec-init", "geometric-median"]
        let (a, b, said) = try straightAndResumed(dir, args, stop: 23)
        #expect(said.contains("resumed from step 23"), "\(said)")
        #expect(a == b, "\(architecture): the resumed run's weights differ from the straight run's")
    }

    /// The built executable killed with SIGKILL once its first checkpoint exists; the rerun
    /// resumes from a later step than 0 and ends where the in-process straight run ends.
    @Test(.enabled(if: LoupeBinary.path != nil, "needs the built loupe executable next to the tests"))
    func aKilledRunResumes() throws {
        let dir = try captureFolder().path
        var rows = [Float](repeating: 0, count: 2000 * 16)
        for i in rows.indices {
            let a: Double = sin(Double(i) * 0.37), b: Double = cos(Double(i / 16 + i % 16) * 1.3)
            rows[i] = Float(a + b)
        }
        try NumPyArray.write(Tensor(shape: [2000, 16], scalars: rows), to: dir + "/x.npy")
        let args = ["sae", "train", "--input", dir + "/x.npy", "--architecture", "topk", "--latents", "256", "--k", "8",
                    "--batch-size", "256", "--tokens", String(256 * 3000), "--seed", "1", "--checkpoint-every", "40"]
        _ = try runLoupe(args + ["--out", dir + "/a"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LoupeBinary.path!)
        process.arguments = args + ["--out", dir + "/b"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = dir + "/b/training-checkpoint.safetensors"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint), process.isRunning, Date() < deadline { usleep(2000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(!FileManager.default.fileExists(atPath: dir + "/b/sae_weights.safetensors"), "the run finished before it was killed")
        let said = try runLoupe(args + ["--out", dir + "/b"])
        #expect(said.contains("resumed from step"), "\(said)")
        #expect(try weights(dir + "/a") == weights(dir + "/b"))
    }
}
