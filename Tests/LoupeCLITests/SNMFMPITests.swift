import Analyses
import Reporting
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
        // --timeout: a rank left waiting in a collective ends the job instead of the test run.
        var args = ["--oversubscribe", "--timeout", "300", "--mca", "btl", "self,vader"]
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
/// factorization (Z, Y, loss curve) and the same report (top tokens in the same order) as one
/// process within 1e-5 relative, on a .npy matrix and on a store; ranks given different
/// settings, more ranks than rows, a NaN in one rank's rows and a short file are refused by
/// name on every rank.
@Suite(.serialized, .enabled(if: MPIRun.path != nil && LoupeBinary.path != nil,
                             "needs mpirun (scripts/setup.sh installs Open MPI) and the built loupe executable next to the tests"))
struct SNMFMPITests {
    /// `‖a - b‖ / ‖b‖` over all values.
    static func relative(_ a: [[Float]], _ b: [[Float]]) -> Double {
        var (num, den) = (0.0, 0.0)
        for (x, y) in zip(a.joined(), b.joined()) { num += Double(x - y) * Double(x - y); den += Double(y) * Double(y) }
        return (num / max(den, 1e-300)).squareRoot()
    }

    /// Fits with `args` in one process and under mpirun with each of `ranks`, and compares the
    /// fits (Y from codes.npy, which the ranks wrote column block by column block) and reports.
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
            #expect(fit.codes == nil && fit.codesFile == "codes.npy", "no rank gathers Y")
            #expect(fit.losses.count == reference.losses.count && fit.bestIteration == reference.bestIteration, "-np \(n)")
            for (a, b) in zip(fit.losses, reference.losses) { #expect(abs(a - b) <= 1e-5 * abs(b), "-np \(n) loss \(a) vs \(b)") }
            #expect(Self.relative(fit.features, reference.features) <= 1e-5, "-np \(n) Z \(Self.relative(fit.features, reference.features))")
            let codes = try #require(try fit.savedCodes(folder: out)), y = try #require(reference.codes)
            #expect(Self.relative(codes, y) <= 1e-5, "-np \(n) Y \(Self.relative(codes, y))")
            try SNMFReportComparison.expectSame(out, as: one, what: "-np \(n)")
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

    /// A NaN in rank 1's rows, and a file shorter than its header says: every rank names the
    /// error (the NaN's rank its own, the others rank 1's) and the job ends without a hang.
    @Test func badInputFailsEveryRankByName() throws {
        let (_, input) = try SNMFCommandTests.matrix(n: 40, d: 6, nanRow: 31)
        let base = ["snmf", "fit", "--rank", "2", "--iterations", "3", "--chunk-rows", "8"]
        let (status, output) = try MPIRun.run([(2, base + ["--input", input, "--out", input + ".out"])])
        #expect(status != 0)
        #expect(output.contains("rank 1 of 2: row 31 of \(input) holds NaN or an infinity"), "\(output)")
        #expect(output.contains("rank 0 of 2: rank 1 failed: row 31 of \(input)"), "\(output)")
        #expect(!output.contains("MPI_ABORT"), "every rank met the error: no abort\n\(output)")

        let (_, good) = try SNMFCommandTests.matrix(n: 40, d: 6)
        let short = good + ".short.npy"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: short))
        let (shortStatus, shortOutput) = try MPIRun.run([(2, base + ["--input", short, "--out", short + ".out"])])
        #expect(shortStatus != 0)
        for r in 0..<2 { #expect(shortOutput.contains("rank \(r) of 2: ") && shortOutput.contains("needs 960 bytes, the file holds 950"), "\(shortOutput)") }
    }
}

/// Two `snmf fit` report folders of the same rows and settings compared: the summary's fields
/// (but the command and the numbers), features.csv and loss.csv within 1e-5 relative, and
/// tokens.csv's top tokens in the same order with the same context (codes within 1e-5); only
/// a run of tied codes may come in another order (see below).
enum SNMFReportComparison {
    static func table(_ folder: String, _ name: String) throws -> [[String]] {
        CSVRecords.parse(try String(contentsOfFile: folder + "/" + name, encoding: .utf8))
    }

    /// Equal text, or numbers within 1e-5 relative plus one unit of the 6th significant digit
    /// the reports print (0.103154 and 0.103155 differ by 9.7e-6 of their value from that alone).
    static func close(_ a: String, _ b: String) -> Bool {
        guard let x = Double(a), let y = Double(b) else { return a == b }
        let digit = y == 0 ? 0 : pow(10, (log10(abs(y))).rounded(.down) - 5)
        return abs(x - y) <= 1e-5 * abs(y) + digit + 1e-12
    }

    static func expectSame(_ folder: String, as reference: String, what: String) throws {
        let summary = { (f: String) in try String(contentsOfFile: f + "/summary.txt", encoding: .utf8).split(separator: "\n").map(String.init) }
        let theirs = Set(try summary(folder))
        for line in try summary(reference) where ["source", "tokens x neurons", "store rows left out", "rank", "sparsity", "init", "iterations run",
                                                   "best iteration", "stopped by"].contains(where: { line.hasPrefix($0 + ":") }) {
            #expect(theirs.contains(line), "\(what) summary.txt lacks '\(line)'")
        }
        for name in ["loss.csv", "features.csv"] {
            let (a, b) = (try table(folder, name), try table(reference, name))
            #expect(a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { close($0, $1) } },
                    "\(what) \(name) differs")
        }
        guard FileManager.default.fileExists(atPath: reference + "/tokens.csv") else {
            #expect(!FileManager.default.fileExists(atPath: folder + "/tokens.csv"))
            return
        }
        let (a, b) = (try table(folder, "tokens.csv"), try table(reference, "tokens.csv"))
        try #require(a.count == b.count && a.first == b.first, "\(what) tokens.csv has \(a.count) lines, expected \(b.count)")
        let code = try #require(b[0].firstIndex(of: "code")), feature = 0
        // Per feature, runs of (near-)tied codes in the reference: identical rows (the same
        // tokens opening two windows) tie exactly in one process, but their codes differ in the
        // last bits when different ranks (or chunk positions) compute them, so a tied run may
        // come in another order, and a run at the cut may hold other rows of the same code.
        var start = 1
        while start < b.count {
            var end = start + 1
            while end < b.count && b[end][feature] == b[start][feature] && close(b[end][code], b[start][code]) { end += 1 }
            let cut = end == b.count || b[end][feature] != b[start][feature]
            let key = { (row: [String]) in row.enumerated().filter { $0.offset != code && $0.offset != 1 }.map(\.element) }
            for i in start..<end { #expect(a[i][feature] == b[i][feature] && close(a[i][code], b[i][code]), "\(what) tokens.csv \(a[i]) vs \(b[i])") }
            if end - start == 1 || !cut {
                #expect(a[start..<end].map(key).sorted { $0.lexicographicallyPrecedes($1) } == b[start..<end].map(key).sorted { $0.lexicographicallyPrecedes($1) },
                        "\(what) tokens.csv rows \(start)..<\(end): \(Array(a[start..<end])) vs \(Array(b[start..<end]))")
            }
            start = end
        }
        let html = { (f: String) in try String(contentsOfFile: f + "/index.html", encoding: .utf8) }
        #expect(try html(folder).contains("tokens.csv") && html(reference).contains("tokens.csv"))
    }
}
