import Analyses
import Foundation
import LoupeTestSupport
import Models
import Testing

/// The pattern Meng et al. (2022) report for facts a model knows, on the default model and
/// several facts: MLP outputs at the subject's tokens matter in the early layers, and the
/// residual stream at the last token carries the answer in the late layers.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct CausalTracingROMEPatternTests {
    static let facts: [(prompt: String, subject: String, answer: String)] = [
        ("The Eiffel Tower is located in the city of", "The Eiffel Tower", " Paris"),
        ("The Colosseum is located in the city of", "The Colosseum", " Rome"),
        ("The Great Wall is located in the country of", "The Great Wall", " China"),
    ]

    @Test func earlyMLPAtTheSubjectLateStateAtTheLastToken() throws {
        let m = try RealModel.shared()
        let L = m.config.nLayers, third = L / 3
        let tracer = CausalTracing(model: m.transformer, config: .init(samples: 3, seed: 2, kinds: [.state, .mlp]))
        let std = NoiseLevel.embeddingStd(m) * 3
        for fact in Self.facts {
            let ids = m.tokenizer.encode(fact.prompt)
            let subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: m.tokenizer)
            let r = try tracer.run(tokens: ids, subject: subject, noiseStd: std)
            #expect(m.tokenizer.tokenString(r.target) == fact.answer, "\(fact.prompt)")
            let gap = r.cleanProbability - r.corruptedProbability
            #expect(gap > 0.3, "\(fact.prompt): the noise should remove most of the answer (clean \(r.cleanProbability), corrupted \(r.corruptedProbability))")
            let last = ids.count - 1
            let mlp = r.grids[.mlp]!, state = r.grids[.state]!
            // MLP, first third of the layers: the strongest cell is on a subject token, and it
            // recovers a good part of the gap.
            var best = (p: -1.0, t: -1)
            for l in 0..<third { for t in 0..<ids.count where mlp[l][t] > best.p { best = (mlp[l][t], t) } }
            #expect(subject.contains(best.t), "\(fact.prompt): early MLP peak at token \(best.t)")
            #expect(r.recovered(best.p) > 0.2, "\(fact.prompt): early MLP peak recovers \(r.recovered(best.p))")
            // State at the last token in the last layers (the last fifth) recovers most of it.
            let late = ((L - L / 5)..<L).map { r.recovered(state[$0][last]) }
            #expect(late.reduce(0, +) / Double(late.count) > 0.6, "\(fact.prompt): late state at the last token \(late)")
            // ... and in the first third it recovers little there, but much at the subject.
            let earlyLast = (0..<third).map { r.recovered(state[$0][last]) }.max()!
            let earlySubject = (0..<third).flatMap { l in subject.map { r.recovered(state[l][$0]) } }.max()!
            #expect(earlyLast < 0.2 && earlySubject > 0.3, "\(fact.prompt): early state last \(earlyLast), subject \(earlySubject)")
        }
    }

    @Test func subjectsAndTargetsAreCheckedWithClearErrors() throws {
        let m = try RealModel.shared()
        let ids = m.tokenizer.encode("The Eiffel Tower is located in the city of")
        #expect(try SubjectLocator.range(of: "The Eiffel Tower", in: ids, tokenizer: m.tokenizer) == 0..<4)
        #expect(try SubjectLocator.range(of: "Tower", in: ids, tokenizer: m.tokenizer) == 3..<4)
        do {
            _ = try SubjectLocator.range(of: "Big Ben", in: ids, tokenizer: m.tokenizer)
            Issue.record("should fail")
        } catch {
            #expect("\(error)".contains("'Big Ben' does not occur") && "\(error)".contains("' Tower'"), "\(error)")
        }
    }
}
