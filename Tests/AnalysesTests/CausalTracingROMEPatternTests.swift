import Analyses
import Foundation
import LoupeTestSupport
import Models
import Tokenizers
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
        let std = try NoiseLevel.embeddingStd(m) * 3
        var results: [CausalTracing.Result] = []
        for fact in Self.facts {
            let ids = try m.tokenizer.encode(fact.prompt)
            let subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: m.tokenizer)
            let r = try tracer.run(tokens: ids, subject: subject, noiseStd: std)
            results.append(r)
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
        // ROME's summary over the facts: the MLP's average indirect effect at the last subject
        // token peaks in the first third and beats the last token's there; the state's at the
        // last token peaks in the last third.
        let averages = CausalTracing.roleAverages(results)
        let mlp = try #require(averages[.mlp]), state = try #require(averages[.state])
        let mlpSubject = try #require(mlp[.lastSubject]), mlpLast = try #require(mlp[.last])
        #expect(mlpSubject.facts == 3 && mlp[.firstSubsequent]?.facts == 3)
        let mlpPeak = mlpSubject.mean.indices.max { mlpSubject.mean[$0] < mlpSubject.mean[$1] }!
        #expect(mlpPeak < third && mlpSubject.mean[mlpPeak] > mlpLast.mean[mlpPeak] + 0.1, "MLP at the last subject token: \(mlpSubject.mean)")
        #expect(mlpSubject.lower[mlpPeak] <= mlpSubject.mean[mlpPeak] && mlpSubject.upper[mlpPeak] >= mlpSubject.mean[mlpPeak])
        let stateLast = try #require(state[.last])
        let statePeak = stateLast.mean.indices.max { stateLast.mean[$0] < stateLast.mean[$1] }!
        #expect(statePeak >= L - third, "state at the last token: \(stateLast.mean)")
    }

    @Test func rolesAndIntervals() throws {
        typealias Role = CausalTracing.TokenRole
        // "The Eiffel Tower is located in the city of": subject 0..<4, 10 tokens.
        let r = Role.positions(subject: 0..<4, length: 10)
        #expect(r[.firstSubject] == [0] && r[.middleSubject] == [1, 2] && r[.lastSubject] == [3])
        #expect(r[.firstSubsequent] == [4] && r[.further] == [5, 6, 7, 8] && r[.last] == [9])
        // One-token subject right before the last token.
        let s = Role.positions(subject: 2..<3, length: 4)
        #expect(s[.firstSubject] == [2] && s[.lastSubject] == [2] && s[.middleSubject] == [] && s[.firstSubsequent] == [] && s[.last] == [3])
        // Student's t interval: values 1, 2, 3 have mean 2, sd 1, half-width 4.303 / sqrt(3).
        let (mean, half) = CausalTracing.meanAndHalfWidth([1, 2, 3])
        #expect(mean == 2 && abs(half - 4.303 / 3.0.squareRoot()) < 1e-9)
    }

    @Test func subjectsAndTargetsAreCheckedWithClearErrors() throws {
        let m = try RealModel.shared()
        let ids = try m.tokenizer.encode("The Eiffel Tower is located in the city of")
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
