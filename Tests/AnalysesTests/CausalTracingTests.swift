import Analyses
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

@Suite struct CausalTracingTinyTests {
    let model = try! TinyModels.model(TinyModels.llamaConfig(layers: 6))

    @Test func windowsFollowROME() {
        let tracer = CausalTracing(model: model, config: .init(window: 4))
        #expect(tracer.window(around: 0) == 0..<2)
        #expect(tracer.window(around: 3) == 1..<5)
        #expect(tracer.window(around: 5) == 3..<6)
        let odd = CausalTracing(model: model, config: .init(window: 3))
        #expect(odd.window(around: 3) == 2..<5)
    }

    @Test func zeroNoiseRestoresNothingAndEverythingIsClean() throws {
        let tracer = CausalTracing(model: model, config: .init(samples: 2))
        let noise = Tensor(zeros: [2, 2, 32])
        let r = try tracer.run(tokens: [5, 6, 7, 8, 9], subject: 1..<3, noiseStd: 0, noise: noise)
        #expect(abs(r.corruptedProbability - r.cleanProbability) < 1e-5)
        for kind in CausalTracing.Kind.allCases {
            #expect(r.grids[kind]!.joined().allSatisfy { abs($0 - r.cleanProbability) < 1e-5 })
        }
    }

    /// Every cell against the straightforward algorithm: a full corrupted forward pass per
    /// sample with hooks that restore the clean activation. Windows 3 and 6 on six layers have
    /// one and three layers whose window runs branch off the previous layer's; layers run one
    /// after another or two at a time (lanes), with each layer's runs in one batch or two per batch.
    @Test(arguments: [(3, 1, nil), (6, 2, nil), (6, 1, 2)] as [(Int, Int, Int?)])
    func fastSweepEqualsTheNaiveLoop(window: Int, lanes: Int, runsPerBatch: Int?) throws {
        let tracer = CausalTracing(model: model, config: .init(samples: 3, seed: 4, window: window,
                                                               runsPerBatch: runsPerBatch, lanes: lanes))
        let tokens = [11, 3, 17, 4, 29, 8, 2]
        let subject = 1..<4
        let noise = try tracer.drawNoise(subjectLength: subject.count, std: 1.5)
        let fast = try tracer.run(tokens: tokens, subject: subject, noiseStd: 1.5, noise: noise)
        let clean = ActivationCache()
        var capture = HookSet()
        capture.capture((0..<6).flatMap { [HookPoint.residPost($0), .mlpOut($0), .attnOut($0)] }, into: clean)
        _ = try model.forward([tokens], hooks: capture)
        for kind in CausalTracing.Kind.allCases {
            for layer in 0..<6 {
                for t in [0, 2, 3, 6] {
                    var p = 0.0
                    for s in 0..<3 {
                        var hooks = HookSet()
                        let z = Array(noise.scalars[(s * 3 * 32)..<((s + 1) * 3 * 32)])
                        hooks.modify(.embed) { act, _ in for i in 0..<z.count { act.scalars[32 + i] += z[i] } }
                        let points: [HookPoint] = kind == .state ? [.residPost(layer)]
                            : tracer.window(around: layer).map { kind == .mlp ? .mlpOut($0) : .attnOut($0) }
                        for point in points {
                            hooks.replace(at: point, with: clean.tensor(point)!, positions: .positions([t]))
                        }
                        let logits = try model.forward([tokens], hooks: hooks).logits[0].scalars
                        let m = logits.max()!
                        let e = logits.map { exp(Double($0 - m)) }
                        p += e[fast.target] / e.reduce(0, +)
                    }
                    #expect(abs(fast.grids[kind]![layer][t] - p / 3) < 1e-5, "\(kind) layer \(layer) token \(t)")
                }
            }
        }
        #expect(fast.rowLayersComputed < fast.rowLayersNaive / 2)
    }

    @Test func badNoiseShapeIsNamed() throws {
        let tracer = CausalTracing(model: model, config: .init(samples: 2))
        #expect(throws: AnalysisError.noiseShape(expected: [2, 2, 32], found: [2, 3, 32])) {
            try tracer.run(tokens: [1, 2, 3], subject: 0..<2, noiseStd: 1, noise: Tensor(zeros: [2, 3, 32]))
        }
    }
}
