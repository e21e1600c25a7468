import Analyses
import Foundation
import LoupeTestSupport
import Models
import Tokenizers
import Testing

/// Attention knockout's fast path (one row resumed at the window's first layer on the clean KV
/// cache) against whole forward passes that block the same edges through the pattern hook.
@Suite struct AttentionKnockoutWholePassTests {
    /// The target's probability with `sources` blocked from the last query row in `window`,
    /// from a whole pass per layer (one batch of `layers` sequences).
    static func wholePasses(_ model: Transformer, tokens: [Int], sources: [Int], windows: [Range<Int>],
                            target: Int) throws -> [Double] {
        let n = tokens.count
        var hooks = HookSet()
        for l in 0..<model.config.nLayers {
            hooks.modify(.pattern(l)) { act, ctx in
                guard windows[ctx.sequence].contains(l) else { return }
                let (heads, rows, keys) = (act.shape[0], act.shape[1], act.shape[2])
                for h in 0..<heads {
                    let row = (h * rows + (rows - 1)) * keys          // the last query row
                    var kept = [Double](repeating: 0, count: keys)
                    for k in 0..<keys where !sources.contains(k) { kept[k] = Double(act.scalars[row + k]) }
                    let sum = kept.reduce(0, +)
                    for k in 0..<keys { act.scalars[row + k] = Float(kept[k] / sum) }
                }
            }
        }
        let logits = try model.forward(Array(repeating: tokens, count: windows.count), hooks: hooks, logits: .last).logits
        #expect(n >= 2)
        return logits.map { row in
            let x = row.scalars.map(Double.init), top = x.max()!
            let z = x.reduce(0) { $0 + exp($1 - top) }
            return exp(x[target] - top) / z
        }
    }

    static func check(_ model: Transformer, tokens: [Int], subject: Range<Int>, window: Int) throws {
        let knockout = AttentionKnockout(model: model, config: .init(window: window))
        let r = try knockout.run(tokens: tokens, subject: subject)
        var changed = 0
        for block in AttentionKnockout.Block.allCases {
            let sources = block.sources(subject: subject, length: tokens.count, blockFirst: false)
            let want = try wholePasses(model, tokens: tokens, sources: sources, windows: r.windows, target: r.target)
            let got = try #require(r.probabilities[block])
            #expect(got.count == model.config.nLayers)
            for (l, (g, w)) in zip(got, want).enumerated() {
                #expect(abs(g - w) <= 1e-5 + 1e-4 * w, "\(block) layer \(l): fast \(g), whole pass \(w)")
                if abs(w - r.cleanProbability) > 1e-3 { changed += 1 }
            }
        }
        // The comparison is not between two unchanged runs.
        #expect(changed >= model.config.nLayers, "only \(changed) cells differ from the clean run")
    }

    @Test func tinyLlamaCellsMatchWholePasses() throws {
        let dir = TestFiles.fixtures.appendingPathComponent("models/tiny-llama")
        let model = try ModelLoader.load(path: dir.path)
        let tokens = [5, 77, 120, 9, 200, 31, 64, 150, 12, 99, 42]
        try Self.check(model.transformer, tokens: tokens, subject: 2..<5, window: 1)
    }

    @Test(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
    func defaultModelCellsMatchWholePasses() throws {
        let m = try RealModel.shared()
        let ids = try m.tokenizer.encode("The Eiffel Tower is located in the city of")
        let subject = try SubjectLocator.range(of: "The Eiffel Tower", in: ids, tokenizer: m.tokenizer)
        try Self.check(m.transformer, tokens: ids, subject: subject, window: 9)
    }
}
