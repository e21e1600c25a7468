import Foundation
import Linalg
import LoupeTestSupport
import Models
import Store
import Testing

@Suite struct CaptureEarlyStopTests {
    @Test func passStopsAfterTheDeepestHookedBlock() {
        #expect(Capturer.stopPoint([.z(1), .residPost(0), .mlpPost(2)], layers: 6) == .residPost(2))
        #expect(Capturer.stopPoint([.pattern(3)], layers: 6) == .residPost(3))
        #expect(Capturer.stopPoint([.embed], layers: 6) == .residPre(0))
        #expect(Capturer.stopPoint([.residPre(5)], layers: 6) == nil, "the last block: nothing to save")
        #expect(Capturer.stopPoint([.residPost(0), .finalNorm], layers: 6) == nil)
    }

    @Test func storedRowsOfAnEarlyStoppedPassEqualTheFullPass() throws {
        // Early blocks of a 4-layer model, including a pattern and a point hooked at the stop point itself.
        let points: [HookPoint] = [.embed, .mlpPost(0), .pattern(1), .z(1), .residPost(1)]
        let t = try TinyCapture(hooks: points, positions: .all, dtype: .f32, count: 10, layers: 4)
        try Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4).run(prompts: t.prompts, positions: t.kept)
        #expect(try t.store.completedPrompts(capture: t.capture.id).count == 10)
        for batch in stride(from: 0, to: 10, by: 4).map({ Array(t.prompts[$0..<min($0 + 4, 10)]) }) {
            let live = try liveActivations(t.model, batch, points)
            for (i, p) in batch.enumerated() {
                for point in points {
                    let stored = try #require(try t.store.activation(capture: t.capture, hook: point.name, prompt: p.id))
                    let expected = selectRows(live.tensor(point, sequence: i)!, t.kept[p.index], pattern: point == .pattern(1))
                    #expect(stored.tensor.scalars.map(\.bitPattern) == expected.map(\.bitPattern), "\(point) prompt \(p.index)")
                }
            }
        }
    }
}
