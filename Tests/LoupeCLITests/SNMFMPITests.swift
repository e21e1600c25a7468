import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// `mpirun`, if installed (scripts/setup.sh installs Open MPI), or nil.
enum MPIRun {
    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        return dirs.map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs `mpirun` with `programs` (one `-np N loupe ARGS` part each, joined by `:`), one
    /// BLAS thread per rank; returns the exit status and stdout + stderr.
    static func run(_ programs: [(ranks: Int, args: [String])]) throws -> (status: Int32, output: String) {
        var args = ["--oversubscribe", "--mca", "btl", "self,vader"]
        for (i, p) in programs.enumerated() { args += (i > 0 ? [":"] : []) + ["-np", String(p.ranks), LoupeBinary.path!] + p.args }
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        return try ChildProcess.run(path!, args, environment: env)
    }
}

/// `loupe snmf fit` under `mpirun -np 2` and `-np 3` on the built executable: the same
/// factorization (Z, Y, loss curve) as one process within 1e-5 relative, on a .npy matrix and
/// on a store; ranks given different settings and more ranks than rows are refused by name.
@Suite(.serialized, .enabled(if: MPIRun.path != nil && LoupeBinary.path != nil,
                             "needs mpirun (scripts/setup.sh installs Open MPI) and the built loupe executable next to the tests"))
struct SNMFMPITests {
    /// `‖a - b‖ / ‖b‖` over all values.
    static func relative(_ a: [[Float]], _ b: [[Float]]) -> Double {
        var (num, den) = (0.0, 0.0)
        for (x, y) in zip(a.joined(), b.joined()) { num += Double(x - y) * Double(x - y); den += Double(y) * Double(y) }
        return (num / max(den, 1e-300)).squareRoot()
    }

    /// Fits with `args` in one process and under mpirun with each of `ranks`, and compares.
    func expectSameFit(_ args: [String], ranks: [Int], dir: URL) throws {
        let one = dir.appendingPathComponent("one").path
        _ = try runLoupe(["snmf", "fit"] + args + ["--save-codes", "--out", one])
        let reference = try SNMFFile.load(path: one + "/snmf.json")
        for n in ranks {
            let out = dir.appendingPathComponent("np\(n)").path
            let (status, output) = try MPIRun.run([(n, ["snmf", "fit"] + args + ["--save-codes", "--out", out])])
            try #require(status == 0, "mpirun -np \(n): \(output)")
            #expect(output.contains("over \(n) MPI ranks"), "\(output)")
            let fit = try SNMFFile.load(path: out + "/snmf.json")
            #expect(fit.tokens == reference.tokens && fit.config == reference.config)
            #expect(fit.losses.count == reference.losses.count && fit.bestIteration == reference.bestIteration, "-np \(n)")
            for (a, b) in zip(fit.losses, reference.losses) { #expect(abs(a - b) <= 1e-5 * abs(b), "-np \(n) loss \(a) vs \(b)") }
            #expect(Self.relative(fit.features, reference.features) <= 1e-5, "-np \(n) Z \(Self.relative(fit.features, reference.features))")
            #expect(Self.relative(fit.codes ?? [], reference.codes ?? [[1]]) <= 1e-5, "-np \(n) Y")
        }
    }

    @Test func npyFitUnderTwoAndThreeRanksEqualsOneProcess() throws {
        let (dir, input) = try SNMFCommandTests.matrix(n: 91, d: 24)
        try expectSameFit(["--input", input, "--rank", "4", "--sparsity", "0", "--iterations", "15", "--tolerance", "0", "--patience", "100"],
                          ranks: [2, 3], dir: dir)
        let random = dir.appendingPathComponent("random")
        try FileManager.default.createDirectory(at: random, withIntermediateDirectories: true)
        try expectSameFit(["--input", input, "--rank", "3", "--init", "random", "--seed", "4", "--sparsity", "0",
                           "--iterations", "12", "--tolerance", "0", "--patience", "100"], ranks: [3], dir: random)
    }

    @Test func storeFitUnderTwoAndThreeRanksEqualsOneProcess() throws {
        let dir = try captureFolder()
        let prompts = (0..<10).map { "prompt \($0): the quick brown fox \(String(repeating: "jumps ", count: $0 % 4))over the dog" }
        try prompts.joined(separator: "\n").write(to: dir.appendingPathComponent("p.txt"), atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("acts.db").path
        let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
        _ = try runLoupe(["capture", "--model", model, "--prompts", dir.appendingPathComponent("p.txt").path,
                          "--hooks", "blocks.1.mlp.hook_post", "--dtype", "f32", "--store", store])
        try expectSameFit(["--store", store, "--hook", "blocks.1.mlp.hook_post", "--rank", "5", "--init", "random", "--seed", "2",
                           "--sparsity", "0", "--iterations", "12", "--tolerance", "0", "--patience", "100", "--chunk-rows", "16"], ranks: [2, 3], dir: dir)
    }

    @Test func ranksWithDifferentSettingsAndTooManyRanksAreRefused() throws {
        let (_, input) = try SNMFCommandTests.matrix(n: 40, d: 6)
        let base = ["snmf", "fit", "--input", input, "--iterations", "3", "--out", input + ".out"]
        let (status, output) = try MPIRun.run([(1, base + ["--rank", "2"]), (1, base + ["--rank", "3"])])
        #expect(status != 0)
        #expect(output.contains("rank 1 of 2 has settings or rows"), "\(output)")
        let (_, tiny) = try SNMFCommandTests.matrix(n: 2, d: 3)
        let (tooMany, message) = try MPIRun.run([(3, ["snmf", "fit", "--input", tiny, "--rank", "1", "--out", tiny + ".out"])])
        #expect(tooMany != 0)
        #expect(message.contains("3 MPI ranks but only 2 rows"), "\(message)")
    }
}
