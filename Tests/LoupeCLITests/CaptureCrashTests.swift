import Foundation
import Linalg
import LoupeTestSupport
import Store
import Testing

/// The `loupe` executable built next to this test bundle, or nil.
enum LoupeBinary {
    static let path: String? = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for dir in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("loupe").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()
}

/// A `loupe` child process whose stderr is read line by line.
final class LoupeChild {
    let process = Process()
    let stderr = Pipe()

    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: LoupeBinary.path!)
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = env
        try process.run()
    }

    /// Reads stderr until a line contains `text` or the process closes it.
    func wait(for text: String) -> Bool {
        var seen = ""
        while true {
            let chunk = stderr.fileHandleForReading.availableData
            if chunk.isEmpty { return false }
            seen += String(decoding: chunk, as: UTF8.self)
            if seen.contains(text) { return true }
        }
    }

    /// Sends SIGKILL and reaps the process.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for a normal exit and returns the status.
    func finish() -> Int32 {
        while !stderr.fileHandleForReading.availableData.isEmpty {}
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite(.serialized, .enabled(if: TestFiles.hasRealModel && LoupeBinary.path != nil,
                             "needs the default model and the built loupe executable next to the tests"))
struct CaptureCrashTests {
    /// Enough prompts that a capture outlasts several kills (48 finished within the first
    /// kill or two once short prompts ran on the AVX-512 product).
    static let promptCount = 160

    /// Kills a real `loupe capture` 20 times at seeded random moments (during model loading,
    /// dataset insertion and batch writing), checks the store after each kill, and resumes.
    @Test func killedCapturesKeepWholePromptsAndResumeToTheSameContent() throws {
        let dir = try captureFolder()
        let prompts = dir.appendingPathComponent("p.txt").path
        var rng = SeededRandom(seed: 20_240_611)
        let words = ["the", "tower", "river", "quietly", "seven", "Paris", "engine", "'quoted'", "semi;colon", "walks", "under", "bright"]
        let lines = (0..<Self.promptCount).map { i in (0..<(4 + i % 9)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") }
        try lines.joined(separator: "\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        func args(_ store: String) -> [String] {
            ["capture", "--prompts", prompts, "--hooks", "blocks.*.hook_resid_post,blocks.1?.mlp.hook_post", "--dtype", "f32",
             "--store", store, "--batch-size", "2", "--threads", "1"]
        }

        let reference = dir.appendingPathComponent("reference.db").path
        let started = Date()
        #expect(try LoupeChild(args(reference)).finish() == 0)
        // Kill moments scale with how long a whole capture takes on this machine, so faster
        // kernels (or a faster machine) still leave kills in the middle of the capture.
        let whole = max(0.2, Date().timeIntervalSince(started))

        let store = dir.appendingPathComponent("killed.db").path
        var progress: [Int] = []
        for kill in 0..<20 {
            let child = try LoupeChild(args(store))
            // Half the kills land at a random moment from the start (often while loading or
            // before the first batch), half a random moment after the prompts are stored.
            if kill % 2 == 1 { _ = child.wait(for: "prompts stored") }
            // The window shrinks with the prompts left, since a resumed capture only computes
            // those (with a fixed window, one early kill left little for the rest to cut into).
            let left = Double(Self.promptCount - (progress.last ?? 0)) / Double(Self.promptCount)
            let window = UInt64(whole * (kill % 2 == 1 ? 0.7 : 1.0) * max(0.2, left) * 1e6)
            usleep(UInt32(rng.next() % max(window, 1)))
            child.kill()
            guard FileManager.default.fileExists(atPath: store) else { progress.append(0); continue }
            let db = try ActivationStore(path: store)
            #expect(try db.integrityCheck() == ["ok"], "after kill \(kill)")
            #expect(try db.verify() == [], "after kill \(kill)")
            let done = try db.captures().first?.promptsDone ?? 0
            #expect(done >= (progress.last ?? 0), "committed prompts never disappear")
            progress.append(done)
        }
        #expect(try LoupeChild(args(store)).finish() == 0)
        let killed = try ActivationStore(path: store), complete = try ActivationStore(path: reference)
        #expect(try killed.verify() == [])
        let a = try killed.captures(), b = try complete.captures()
        #expect(a.count == 1 && b.count == 1)
        #expect(a[0].promptsDone == Self.promptCount && a[0].hooks == b[0].hooks && a[0].bytes == b[0].bytes)
        let ca = try killed.capture(id: a[0].id), cb = try complete.capture(id: b[0].id)
        let pa = try killed.prompts(dataset: ca.datasetID), pb = try complete.prompts(dataset: cb.datasetID)
        #expect(pa.map(\.text) == lines && pb.map(\.text) == lines)
        for (x, y) in zip(pa, pb) {
            for hook in ca.hooks {
                let u = try killed.activation(capture: ca, hook: hook, prompt: x.id)?.tensor
                let v = try complete.activation(capture: cb, hook: hook, prompt: y.id)?.tensor
                #expect(u != nil && u?.scalars.map(\.bitPattern) == v?.scalars.map(\.bitPattern), "\(hook) prompt \(x.index)")
            }
        }
        print("crash test: a whole capture took \(whole) s; prompts held after each kill: \(progress)")
        #expect(progress.contains { $0 > 0 && $0 < Self.promptCount }, "some kills should land mid-capture: \(progress)")
    }
}
