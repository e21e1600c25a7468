import Foundation
import LoupeTestSupport
import Models
import Store
import Testing

/// The claim table: capturers on one store each claim a batch before computing it, skip
/// batches another live capturer holds, and take over claims whose process is gone.
@Suite struct CaptureClaimTests {
    static let hook = "blocks.1.hook_resid_post"

    func bits(_ store: ActivationStore, _ t: TinyCapture) throws -> [[UInt32]] {
        try t.prompts.map { p in try #require(try store.activation(capture: t.capture, hook: Self.hook, prompt: p.id)).tensor.scalars.map(\.bitPattern) }
    }

    func reference(count: Int) throws -> [[UInt32]] {
        let alone = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: count)
        try Capturer(model: alone.model, store: alone.store, capture: alone.capture, batchSize: 4).run(prompts: alone.prompts, positions: alone.kept)
        return try bits(alone.store, alone)
    }

    /// A pid that no process has: a child that has exited and been reaped.
    func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    /// A batch another live capturer holds is not computed: the capturer does the rest first and
    /// comes back to it, and takes it once the holder lets go. (The old capturer computed it at once.)
    @Test func aHeldBatchIsLeftToItsHolderUntilReleased() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 16)
        let other = ClaimOwner(token: "other")
        let heldIDs = t.prompts[4..<8].map(\.id)
        let otherStore = try ActivationStore(path: t.store.path, writable: true)
        #expect(try otherStore.claim(heldIDs, capture: t.capture.id, owner: other, lease: 3600) == .claimed(Set(heldIDs)))
        var capturer = Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4)
        capturer.owner = ClaimOwner(token: "me")
        capturer.pollSeconds = 0.01
        // The holder computes nothing here; it lets go once the capturer has done everything else.
        var order: [Int] = []
        let p = try capturer.run(prompts: t.prompts, positions: t.kept) { progress in
            order.append(progress.done)
            if progress.done == 12 { try otherStore.releaseClaims(capture: t.capture.id, owner: other) }
        }
        #expect(order == [4, 8, 12, 16])
        let storedFirst = try t.store.completedPrompts(capture: t.capture.id)
        #expect(storedFirst.count == 16 && p.capturedPrompts == 16)
        #expect(try t.store.claims(capture: t.capture.id).isEmpty)
        #expect(try bits(t.store, t) == reference(count: 16))
    }

    /// A claim left by a process that no longer runs (killed) is taken over at once, however
    /// long its lease; a claim whose lease has passed is too.
    @Test func claimsOfGoneProcessesAndPassedLeasesAreTakenOver() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 12)
        let gone = ClaimOwner(pid: try deadPID(), token: "killed")
        let stale = ClaimOwner(token: "stale")
        let ids = t.prompts.map(\.id)
        #expect(try t.store.claim(Array(ids[0..<4]), capture: t.capture.id, owner: gone, lease: 3600) == .claimed(Set(ids[0..<4])))
        #expect(try t.store.claim(Array(ids[4..<8]), capture: t.capture.id, owner: stale, lease: -1) == .claimed(Set(ids[4..<8])))
        // A live claim is honoured by another owner.
        let live = ClaimOwner(token: "live")
        #expect(try t.store.claim(Array(ids[8..<12]), capture: t.capture.id, owner: live, lease: 3600) == .claimed(Set(ids[8..<12])))
        #expect(try t.store.claim(Array(ids[8..<12]), capture: t.capture.id, owner: ClaimOwner(token: "x"), lease: 3600) == .held)
        try t.store.releaseClaims(capture: t.capture.id, owner: live)

        var capturer = Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4)
        capturer.pollSeconds = 0.01
        var order: [Int] = []
        let p = try capturer.run(prompts: t.prompts, positions: t.kept) { order.append($0.done) }
        #expect(order == [4, 8, 12] && p.capturedPrompts == 12)
        #expect(try t.store.claim(Array(ids[0..<4]), capture: t.capture.id, owner: live, lease: 3600) == .done)
        #expect(try bits(t.store, t) == reference(count: 12))
    }

    /// Two capturers on two threads, each with its own store handle and owner, finish one
    /// capture together: every prompt is computed once, and the store equals one capturer's.
    @Test func twoConcurrentCapturersComputeEachPromptOnce() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 40)
        let path = t.store.path
        let model = t.model
        let (prompts, capture, kept) = (t.prompts, t.capture, t.kept)
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                let store = try ActivationStore(path: path, writable: true)
                var c = Capturer(model: model, store: store, capture: capture, batchSize: 4)
                c.owner = ClaimOwner(token: "thread \(i)")
                c.pollSeconds = 0.01
                results.add(try c.run(prompts: prompts, positions: kept).capturedPrompts)
            } catch { results.fail("\(error)") }
        }
        #expect(results.failures.isEmpty, "\(results.failures)")
        #expect(results.counts.count == 2 && results.counts.reduce(0, +) == 40)
        #expect(try t.store.claims(capture: t.capture.id).isEmpty)
        #expect(try bits(t.store, t) == reference(count: 40))
        #expect(try t.store.verify().isEmpty)
    }
}

/// Results gathered from concurrent threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var counts: [Int] = []
    private(set) var failures: [String] = []
    func add(_ n: Int) { lock.lock(); counts.append(n); lock.unlock() }
    func fail(_ s: String) { lock.lock(); failures.append(s); lock.unlock() }
}
