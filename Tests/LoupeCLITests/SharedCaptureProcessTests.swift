import Foundation
import Linalg
import LoupeTestSupport
import Store
import Testing

/// Several `loupe capture` processes on one store finish it together through the claim table,
/// and a process killed with -9 leaves its claimed batch to be taken over by the next run.
@Suite(.serialized, .enabled(if: LoupeBinary.path != nil, "needs the built loupe executable next to the tests"))
struct SharedCaptureProcessTests {
    static let hooks = "blocks.*.hook_resid_post,blocks.1.mlp.hook_post"

    func promptFile(_ dir: URL, count: Int) throws -> (path: String, lines: [String]) {
        var rng = SeededRandom(seed: 14)
        let words = ["the", "tower", "river", "quietly", "seven", "Paris", "engine", "walks", "under", "bright"]
        let lines = (0..<count).map { i in (0..<(3 + i % 7)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") }
        let path = dir.appendingPathComponent("p.txt").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, lines)
    }

    /// Every activation of `a`'s single capture equals `b`'s, bit for bit, prompt by prompt.
    func expectSameCapture(_ a: String, _ b: String, prompts: Int) throws {
        let x = try ActivationStore(path: a), y = try ActivationStore(path: b)
        #expect(try x.verify() == [])
        let cx = try x.captures(), cy = try y.captures()
        try #require(cx.count == 1 && cy.count == 1)
        #expect(cx[0].promptsDone == prompts && cx[0].hooks == cy[0].hooks && cx[0].bytes == cy[0].bytes)
        let ca = try x.capture(id: cx[0].id), cb = try y.capture(id: cy[0].id)
        #expect(try x.claims(capture: ca.id).isEmpty)
        let pa = try x.prompts(dataset: ca.datasetID), pb = try y.prompts(dataset: cb.datasetID)
        #expect(pa.map(\.text) == pb.map(\.text))
        for (p, q) in zip(pa, pb) {
            for hook in ca.hooks {
                let u = try x.activation(capture: ca, hook: hook, prompt: p.id)?.tensor.scalars.map(\.bitPattern)
                let v = try y.activation(capture: cb, hook: hook, prompt: q.id)?.tensor.scalars.map(\.bitPattern)
                #expect(u != nil && u == v, "\(hook) prompt \(p.index)")
            }
        }
    }

    @Test func threeProcessesOnOneStoreEqualOneProcess() throws {
        let dir = try captureFolder()
        let (prompts, _) = try promptFile(dir, count: 120)
        let model = TestFiles.fixtures.appendingPathComponent("models/tiny-llama").path
        func args(_ store: String) -> [String] {
            ["capture", "--model", model, "--prompts", prompts, "--hooks", Self.hooks, "--dtype", "f32",
             "--store", store, "--batch-size", "2", "--threads", "1"]
        }
        let reference = dir.appendingPathComponent("one.db").path
        #expect(try LoupeChild(args(reference)).finish() == 0)
        let shared = dir.appendingPathComponent("shared.db").path
        let children = try (0..<3).map { _ in try LoupeChild(args(shared)) }
        #expect(children.map { $0.finish() } == [0, 0, 0])
        try expectSameCapture(shared, reference, prompts: 120)
    }

    @Test(.enabled(if: TestFiles.hasRealModel, "needs the default model"))
    func aKilledProcessesClaimIsTakenOverByTheNextRuns() throws {
        let dir = try captureFolder()
        let (prompts, _) = try promptFile(dir, count: 24)
        func args(_ store: String) -> [String] {
            ["capture", "--prompts", prompts, "--hooks", Self.hooks, "--dtype", "f32",
             "--store", store, "--batch-size", "2", "--threads", "1"]
        }
        let reference = dir.appendingPathComponent("one.db").path
        #expect(try LoupeChild(args(reference)).finish() == 0)
        let store = dir.appendingPathComponent("killed.db").path
        let first = try LoupeChild(args(store))
        #expect(first.wait(for: "prompts stored"))
        usleep(150_000)  // into the next batch's forward pass, usually: its claim is then left behind
        first.kill()
        let left = try ActivationStore(path: store)
        let capture = try #require(try left.captures().first)
        let claimed = try left.claims(capture: capture.id).count
        #expect(capture.promptsDone < 24, "the kill should land mid-capture")
        // Two new processes finish it: the dead process's claim (if the kill caught one) does not
        // hold them up, and no batch is lost or written twice.
        let next = try (0..<2).map { _ in try LoupeChild(args(store)) }
        #expect(next.map { $0.finish() } == [0, 0])
        try expectSameCapture(store, reference, prompts: 24)
        print("kill test: \(capture.promptsDone) prompts stored and \(claimed) claimed at the kill")
    }
}
