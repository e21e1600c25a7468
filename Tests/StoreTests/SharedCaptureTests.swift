import Foundation
import Linalg
import LoupeTestSupport
import Models
import Store
import Testing

/// Two captures into one store (two processes, or two stores opened on one file) finish it
/// together: a batch one of them committed is skipped by the other, and the result equals a
/// single capture bit for bit. The second used to die with "UNIQUE constraint failed".
@Suite struct SharedCaptureTests {
    static let hook = "blocks.1.hook_resid_post"

    func bits(_ store: ActivationStore, _ t: TinyCapture) throws -> [[UInt32]] {
        try t.prompts.map { p in try #require(try store.activation(capture: t.capture, hook: Self.hook, prompt: p.id)).tensor.scalars.map(\.bitPattern) }
    }

    @Test func aSecondCapturerTakesOverWhatTheFirstHasNotDoneAndSkipsWhatItHas() throws {
        let shared = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 24)
        let second = try ActivationStore(path: shared.store.path, writable: true)
        var secondRan = false
        // The first capturer commits one batch; then, between its batches, another capturer on
        // the same file runs and commits everything left; the first must skip all of it.
        let first = try Capturer(model: shared.model, store: shared.store, capture: shared.capture, batchSize: 4)
            .run(prompts: shared.prompts, positions: shared.kept) { _ in
                guard !secondRan else { return }
                secondRan = true
                let other = try Capturer(model: shared.model, store: second, capture: shared.capture, batchSize: 4)
                    .run(prompts: shared.prompts, positions: shared.kept)
                #expect(other.capturedPrompts == 20)
            }
        #expect(first.capturedPrompts == 4 && first.done == 24)

        let alone = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 24)
        try Capturer(model: alone.model, store: alone.store, capture: alone.capture, batchSize: 4).run(prompts: alone.prompts, positions: alone.kept)
        #expect(try bits(shared.store, shared) == bits(alone.store, alone))
        #expect(try shared.store.verify().isEmpty)
    }

    @Test func aBatchCommittedMeanwhileIsSkippedNotAConstraintFailure() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .all, count: 6)
        // What a capturer computes for a batch: one f32 activation per prompt of the capture's hook.
        let computed = t.prompts.enumerated().map { i, p in
            CapturedPrompt(promptID: p.id, positions: t.kept[i], activations: [
                CapturedActivation(hook: Self.hook, shape: [t.kept[i].count, 32], data: Data(count: t.kept[i].count * 32 * 4))])
        }
        // Two processes computed the same batch; the one that commits second writes nothing.
        #expect(try t.store.append(computed, to: t.capture).count == 6)
        #expect(try ActivationStore(path: t.store.path, writable: true).append(computed, to: t.capture).isEmpty)
        #expect(try t.store.completedPrompts(capture: t.capture.id).count == 6)
    }
}
