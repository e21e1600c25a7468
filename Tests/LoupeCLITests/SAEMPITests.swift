import Analyses
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// `loupe sae train` data-parallel under `mpirun -np 2` and `-np 3` on the built executable:
/// for every architecture, the loss of every step and the saved weights equal one process's
/// within 1e-5 relative (a store transcoder with a skip term too); a run stopped and resumed
/// under MPI ends with the same weights, byte for byte, as one never stopped; ranks given
/// different settings, a batch smaller than the job, a NaN row and --corpus are refused by
/// name on every rank.
@Suite(.serialized, .enabled(if: MPIRun.path != nil && LoupeBinary.path != nil,
                             "needs mpirun (scripts/setup.sh installs Open MPI) and the built loupe executable next to the tests"))
struct SAEMPITests {
    /// One process's run of `loupe ARGS` (one BLAS thread, as the ranks), stdout and stderr.
    static func single(_ args: [String]) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        let (status, output) = try ChildProcess.run(LoupeBinary.path!, args, environment: env)
        try #require(status == 0, "\(args): \(output)")
        return output
    }

    /// The loss of every progress line (`step i/N  tokens T  loss X ...`), by step.
    static func losses(_ output: String) -> [Int: String] {
        var out: [Int: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("loupe: step ") {
            let words = line.dropFirst("loupe: ".count).split(separator: " ", omittingEmptySubsequences: true)
            guard let step = Int(words[1].split(separator: "/")[0]), let at = words.firstIndex(of: "loss") else { continue }
            out[step] = String(words[at + 1])
        }
        return out
    }

    /// `‖a - b‖ / ‖b‖`.
    static func relative(_ a: [Float], _ b: [Float]) -> Double {
        var (num, den) = (0.0, 0.0)
        for (x, y) in zip(a, b) { num += Double(x - y) * Double(x - y); den += Double(y) * Double(y) }
        return a.count == b.count ? (num / max(den, 1e-300)).squareRoot() : .infinity
    }

    /// Trains with `args` in one process and under mpirun with each of `ranks`; compares the
    /// per-step losses and every saved array.
    func expectSameTraining(_ args: [String], ranks: [Int], dir: String, what: String) throws {
        let reference = try Self.single(args + ["--out", dir + "/one"])
        let referenceLosses = Self.losses(reference)
        try #require(referenceLosses.count >= 6, "\(what): progress lines\n\(reference)")
        let (one, _) = try SAEFolder.load(dir + "/one")
        // Training moved the weights (b_enc starts at zero): the comparison is not of two SAEs that stood still.
        #expect(one.parameters.bEnc.map { abs($0) }.max()! > 1e-3, "\(what): b_enc \(one.parameters.bEnc)")
        for n in ranks {
            let out = dir + "/np\(n)"
            let (status, output) = try MPIRun.run([(n, args + ["--out", out])])
            try #require(status == 0, "\(what) mpirun -np \(n): \(output)")
            #expect(output.contains("over \(n) MPI ranks"), "\(output)")
            let losses = Self.losses(output)
            #expect(losses.keys.sorted() == referenceLosses.keys.sorted(), "\(what) -np \(n): one progress line per step, from rank 0 only\n\(output)")
            for (step, loss) in referenceLosses {
                #expect(losses[step].map { SNMFReportComparison.close($0, loss) } == true, "\(what) -np \(n) step \(step): loss \(losses[step] ?? "none") vs \(loss)")
            }
            let (sae, metadata) = try SAEFolder.load(out)
            #expect(metadata.extra["mpi_ranks"] == String(n))
            let (p, q) = (sae.parameters, one.parameters)
            for (name, a, b) in [("W_enc", p.wEnc, q.wEnc), ("W_dec", p.wDec, q.wDec), ("b_enc", p.bEnc, q.bEnc), ("b_dec", p.bDec, q.bDec),
                                 ("threshold", sae.inferenceThreshold ?? [], one.inferenceThreshold ?? []), ("W_skip", p.wSkip, q.wSkip)]
            where !b.isEmpty {
                let gap = Self.relative(a, b)
                #expect(gap <= 1e-5, "\(what) -np \(n) \(name): relative difference \(gap)")
            }
        }
    }

    static func base(checkpointEvery: Int = 0) -> [String] {
        ["sae", "train", "--latents", "32", "--k", "4", "--l1", "0.5", "--lr", "0.003", "--batch-size", "50",
         "--tokens", "500", "--seed", "3", "--progress-every", "1", "--checkpoint-every", String(checkpointEvery)]
    }

    @Test(arguments: ["standard", "topk", "jumprelu", "batchtopk", "matryoshka"])
    func matrixTrainingUnderTwoAndThreeRanksEqualsOneProcess(_ architecture: String) throws {
        let (dir, input) = try SNMFCommandTests.matrix(n: 130, d: 16)
        var args = Self.base() + ["--input", input, "--architecture", architecture]
        if architecture == "matryoshka" { args += ["--matryoshka-widths", "8,16,32"] }
        if architecture == "topk" || architecture == "batchtopk" { args += ["--dead-window", "60"] }  // the auxiliary loss runs
        try expectSameTraining(args, ranks: [2, 3], dir: dir.path, what: architecture)
    }

    @Test func storeTranscoderWithSkipUnderTwoRanksEqualsOneProcess() throws {
        let dir = try captureFolder().path
        try SAECheckpointCLITests.prompts.write(toFile: dir + "/p.jsonl", atomically: true, encoding: .utf8)
        _ = try runLoupe(["capture", "--model", SAECheckpointCLITests.model, "--prompts", dir + "/p.jsonl",
                          "--hooks", "blocks.1.mlp.hook_in,blocks.1.hook_mlp_out", "--dtype", "f32", "--store", dir + "/s.db"])
        let args = Self.base().map { $0 == "50" ? "40" : $0 == "500" ? "400" : $0 }
            + ["--store", dir + "/s.db", "--hook", "blocks.1.mlp.hook_in", "--target-hook", "blocks.1.hook_mlp_out",
               "--architecture", "topk", "--skip", "--skip-init", "data"]
        try expectSameTraining(args, ranks: [2], dir: dir, what: "store transcoder")
    }

    @Test func stoppedRunResumesUnderMPIByteForByte() throws {
        let (dir, input) = try SNMFCommandTests.matrix(n: 130, d: 16)
        let args = Self.base(checkpointEvery: 3) + ["--input", input, "--architecture", "batchtopk"]
        let straight = try MPIRun.run([(2, args + ["--out", dir.path + "/a"])])
        try #require(straight.status == 0, "\(straight.output)")
        let stopped = try MPIRun.run([(2, args + ["--out", dir.path + "/b", "--stop-after", "4"])])
        #expect(stopped.status == 0 && stopped.output.contains("stopped after step 4/10"), "\(stopped.output)")
        let resumed = try MPIRun.run([(2, args + ["--out", dir.path + "/b"])])
        #expect(resumed.status == 0 && resumed.output.contains("resuming from") && resumed.output.contains("resumed from step 4"), "\(resumed.output)")
        let weights = { (d: String) in try Data(contentsOf: URL(fileURLWithPath: dir.path + "/\(d)/sae_weights.safetensors")) }
        #expect(try weights("a") == weights("b"), "the resumed run's weights differ from the straight run's")
    }

    @Test func badJobsAreRefusedOnEveryRank() throws {
        let (_, input) = try SNMFCommandTests.matrix(n: 40, d: 6)
        let args = ["sae", "train", "--input", input, "--latents", "8", "--batch-size", "10", "--tokens", "40", "--out", input + ".out"]
        let (status, output) = try MPIRun.run([(1, args + ["--k", "2"]), (1, args + ["--k", "3"])])
        #expect(status != 0)
        #expect(output.contains("rank 1 of 2 has settings or rows different from rank 0's"), "\(output)")
        #expect(!output.contains("MPI_ABORT"), "\(output)")

        let small = try MPIRun.run([(3, args.map { $0 == "10" ? "2" : $0 } + ["--k", "2"])])
        #expect(small.status != 0)
        for r in 0..<3 { #expect(small.output.contains("rank \(r) of 3: ") && small.output.contains("a batch of 2 rows cannot be split over 3 MPI ranks"), "\(small.output)") }

        let (_, bad) = try SNMFCommandTests.matrix(n: 40, d: 6, nanRow: 31)
        let nan = try MPIRun.run([(2, args.map { $0 == input ? bad : $0 } + ["--k", "2"])])
        #expect(nan.status != 0)
        for r in 0..<2 { #expect(nan.output.contains("rank \(r) of 2: ") && nan.output.contains("row 31"), "\(nan.output)") }
        #expect(!nan.output.contains("MPI_ABORT"), "every rank met the error: no abort\n\(nan.output)")

        let corpus = try MPIRun.run([(2, ["sae", "train", "--model", SAECheckpointCLITests.model, "--corpus", input, "--context", "8",
                                          "--hook", "blocks.1.hook_resid_post", "--latents", "8", "--out", input + ".c"])])
        #expect(corpus.status != 0)
        #expect(corpus.output.contains("rank 1 of 2: ") && corpus.output.contains("Capture a store"), "\(corpus.output)")
        #expect(!corpus.output.contains("MPI_ABORT"), "\(corpus.output)")
    }
}
