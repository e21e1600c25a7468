import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// GNU parallel, when installed (`scripts/setup.sh` installs it).
let parallelPath: String? = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A recipe docs/SCALE.md does not have.
struct RecipeMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "docs/SCALE.md has no recipe '\(name)' (a fenced sh block after <!-- recipe: \(name) -->)" }
}

/// The GNU parallel recipes of docs/SCALE.md (capture, trace and knockout over facts, patching over pairs, probes over hooks), read from the document and run as written (only
/// `N=` changed) with the tiny Llama checkpoint as the model, for N = 2 and 3: their merged
/// outputs equal a single process's.
@Suite(.serialized, .enabled(if: parallelPath != nil, "GNU parallel is not installed: run scripts/setup.sh"),
       .enabled(if: LoupeBinary.path != nil, "the loupe executable was not built beside the tests"))
struct ScaleRecipeTests {
    static let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path

    /// The shell lines of the fenced block after `<!-- recipe: name -->` in docs/SCALE.md.
    static func recipe(_ name: String) throws -> [String] {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/SCALE.md"), encoding: .utf8)
        guard let marker = doc.range(of: "<!-- recipe: \(name) -->\n```sh\n"),
              let end = doc.range(of: "\n```", range: marker.upperBound..<doc.endIndex) else {
            throw RecipeMissing(name: name)
        }
        return doc[marker.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
    }

    /// Facts the tiny model can be traced on (no answers: its own top-1 is traced).
    static let facts = """
        {"prompt": "The quick brown fox jumps over the lazy dog", "subject": "quick brown"}
        {"prompt": "A cat sat on the mat and then", "subject": "cat"}
        {"prompt": "Paris is the capital of", "subject": "Paris"}
        {"prompt": "She went to the market to buy", "subject": "market"}
        {"prompt": "One two three four five", "subject": "zebra"}
        """

    /// Runs `lines` with `N=n`, then `single` (the unsharded run, by the same executable: in
    /// process a sweep runs one lane, a process one per core, which changes sgemm's last bits)
    /// in a fresh folder holding `probes/`, `facts.jsonl`, `pairs.jsonl` and `loupe`
    /// on the PATH; returns the folder.
    func run(_ lines: [String], n: Int, single: String) throws -> String {
        let dir = try captureFolder().path
        try Self.facts.write(toFile: dir + "/facts.jsonl", atomically: true, encoding: .utf8)
        try ShardedPatchTests.pairs.write(toFile: dir + "/pairs.jsonl", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/probes", withDestinationPath: repositoryRoot.appendingPathComponent("probes").path)
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/bin/loupe", withDestinationPath: LoupeBinary.path!)
        #expect(lines.first == "N=3", "a recipe starts with N=3: \(lines)")
        let script = (["N=\(n)"] + lines.dropFirst() + [single]).joined(separator: "\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-euo", "pipefail", "-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = dir + "/bin:" + (env["PATH"] ?? "/usr/bin:/bin")
        env["LOUPE_MODEL"] = Self.model
        for k in ["LOUPE_SHARD", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] { env[k] = nil }
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "N=\(n): \(script)\n\(said.suffix(2000))")
        return dir
    }

    @Test func traceFactsRecipe() throws {
        let lines = try Self.recipe("trace-facts")
        for n in [2, 3] {
            let dir = try run(lines, n: n, single: "loupe trace --facts facts.jsonl --out whole")
            for name in ["roles.csv", "facts.csv", "roles-state.svg", "roles-mlp.svg"] {
                let merged = try String(contentsOfFile: dir + "/reports/facts/" + name, encoding: .utf8)
                #expect(merged == (try String(contentsOfFile: dir + "/whole/" + name, encoding: .utf8)), "N=\(n): \(name)")
                #expect(merged.count > 200, "N=\(n): \(name)")
            }
        }
    }

    @Test func knockoutFactsRecipe() throws {
        let lines = try Self.recipe("knockout-facts")
        for n in [2, 3] {
            let dir = try run(lines, n: n, single: "loupe knockout --facts facts.jsonl --out whole")
            for name in ["facts.csv", "averages.csv", "averages.svg"] {
                let merged = try String(contentsOfFile: dir + "/reports/knockout/" + name, encoding: .utf8)
                #expect(merged == (try String(contentsOfFile: dir + "/whole/" + name, encoding: .utf8)), "N=\(n): \(name)")
                #expect(merged.count > 200, "N=\(n): \(name)")
            }
        }
    }

    @Test func patchPairsRecipe() throws {
        let lines = try Self.recipe("patch-pairs")
        for n in [2, 3] {
            let dir = try run(lines, n: n, single: "loupe patch --pairs pairs.jsonl --out whole")
            for name in ["pairs.csv", "averages.csv", "averages.svg"] {
                let merged = try String(contentsOfFile: dir + "/reports/patch/" + name, encoding: .utf8)
                #expect(merged == (try String(contentsOfFile: dir + "/whole/" + name, encoding: .utf8)), "N=\(n): \(name)")
                #expect(merged.count > 200, "N=\(n): \(name)")
            }
        }
    }

    @Test func probeTrainRecipe() throws {
        let lines = try Self.recipe("probe-train")
        for n in [2, 3] {
            let dir = try run(lines, n: n, single: "loupe probe train --store sentiment.sqlite --dataset probes/sentiment --out whole")
            for name in ["layers.csv", "layers.svg", "confusion.csv", "confusion.svg", "best-probe.json", "probe-blocks.1.hook_resid_post.json"] {
                let merged = try Data(contentsOf: URL(fileURLWithPath: dir + "/reports/probe/" + name))
                #expect(merged == (try Data(contentsOf: URL(fileURLWithPath: dir + "/whole/" + name))), "N=\(n): \(name)")
                #expect(merged.count > 40, "N=\(n): \(name)")
            }
        }
    }

    @Test func captureRecipe() throws {
        let lines = try Self.recipe("capture")
        let command = lines[1].components(separatedBy: "\"")[1]  // the command parallel runs
        #expect(command.hasPrefix("loupe capture ") && command.hasSuffix(" --store acts.sqlite --shard {}/$N"), "\(command)")
        let single = command.replacingOccurrences(of: " --store acts.sqlite --shard {}/$N", with: " --store whole.sqlite")
        for n in [2, 3] {
            let dir = try run(lines, n: n, single: single)
            let merged = try ShardedCaptureTests().dump(dir + "/acts.sqlite")
            #expect(merged["activation"]!.count == 360 * 2, "N=\(n): 360 prompts at two hooks")
            #expect(merged == (try ShardedCaptureTests().dump(dir + "/whole.sqlite")), "N=\(n): the merged store equals a single-process capture")
        }
    }
}
