import Analyses
import Foundation
import LoupeTestSupport
import Models
import Tokenizers
import Testing

/// Attention knockout on the default model reproduces what Geva et al. (2023) report: the last
/// position reads the relation (non-subject tokens) first and the subject's attribute later, in
/// the upper layers; and blocking nothing changes nothing.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct AttentionKnockoutTests {
    static let facts: [(prompt: String, subject: String, answer: String)] = [
        ("The Eiffel Tower is located in the city of", "The Eiffel Tower", " Paris"),
        ("The Colosseum is located in the city of", "The Colosseum", " Rome"),
        ("The Great Wall is located in the country of", "The Great Wall", " China"),
        ("The Taj Mahal is located in the country of", "The Taj Mahal", " India"),
    ]

    @Test func subjectEdgesMatterLateRelationEdgesEarlier() throws {
        let m = try RealModel.shared()
        let L = m.config.nLayers
        let knockout = AttentionKnockout(model: m.transformer)
        for fact in Self.facts {
            let ids = try m.tokenizer.encode(fact.prompt)
            let subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: m.tokenizer)
            let r = try knockout.run(tokens: ids, subject: subject)
            #expect(m.tokenizer.tokenString(r.target) == fact.answer)
            let subjectDrop = try #require(r.strongestDrop(.subject)), relationDrop = try #require(r.strongestDrop(.nonSubject))
            let early = r.relativeChange(.subject)![0..<(L / 3)]
            #expect(subjectDrop.change < -35 && subjectDrop.layer >= L / 2, "\(fact.prompt): subject drop \(subjectDrop)")
            #expect(early.reduce(0, +) / Double(early.count) > -20, "\(fact.prompt): early subject knockout \(Array(early))")
            #expect(relationDrop.change < -45 && relationDrop.layer < subjectDrop.layer, "\(fact.prompt): relation \(relationDrop) subject \(subjectDrop)")
            #expect(r.windows[0] == 0..<5 && r.windows[15] == 11..<20 && r.windows[29] == 25..<30)
        }
    }

    @Test func blockingNothingOrTheSinkAsDocumented() throws {
        let m = try RealModel.shared()
        let ids = try m.tokenizer.encode(Self.facts[0].prompt)
        // A subject of only position 0 with the sink kept: nothing is blocked, nothing changes.
        let none = try AttentionKnockout(model: m.transformer, config: .init(blocks: [.subject])).run(tokens: ids, subject: 0..<1)
        #expect(none.relativeChange(.subject)!.allSatisfy { abs($0) < 1e-3 }, "\(none.relativeChange(.subject)!)")
        // Blocking the sink too wrecks the prediction at most layers.
        let sink = try AttentionKnockout(model: m.transformer, config: .init(blocks: [.subject], blockFirst: true)).run(tokens: ids, subject: 0..<1)
        #expect(sink.relativeChange(.subject)!.filter { $0 < -50 }.count > 10)
        #expect(throws: AnalysisError.self) { try AttentionKnockout(model: m.transformer).run(tokens: [ids[0]], subject: 0..<1) }
    }
}
