import Analyses
import Foundation
import Formats
import LoupeTestSupport
import Models
import Tokenizers
import Testing

/// Loupe's causal trace against an independent implementation with `transformers` hooks
/// (scripts/fixtures/tracing/make_trace_reference.py), given the same noise.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct CausalTracingReferenceTests {
    struct Fact: Decodable {
        let prompt: String, subject: String, ids: [Int], subject_range: [Int], target_id: Int
        let clean_p: Double, corrupted_p: Double, noise_file: String, grids_file: String, grids_shape: [Int]
    }
    struct Reference: Decodable { let facts: [Fact]; let noise_std: Double }

    static let dir = TestFiles.fixtures.appendingPathComponent("tracing")

    @Test func cellsAgreeWithTheReferenceGivenTheSameNoise() throws {
        let m = try RealModel.shared()
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.dir.appendingPathComponent("reference.json")))
        // Three facts (the minimum; the fixtures hold four): a whole grid costs about
        // 2.5 minutes of a loaded 2-core machine per fact.
        let facts = ref.facts.filter { FileManager.default.fileExists(atPath: Self.dir.appendingPathComponent($0.grids_file).path) }.prefix(3)
        #expect(facts.count == 3)
        #expect(try abs(Double(NoiseLevel.embeddingStd(m) * 3) - ref.noise_std) < 1e-5)
        // Every layer, every kind, every token of every fact the fixtures hold.
        let layers = Array(0..<m.config.nLayers)
        for fact in facts {
            let ids = try m.tokenizer.encode(fact.prompt)
            #expect(ids == fact.ids)
            let subject = try SubjectLocator.range(of: fact.subject, in: ids, tokenizer: m.tokenizer)
            #expect(subject == fact.subject_range[0]..<fact.subject_range[1])
            let noise = try NumPyArray.read(path: Self.dir.appendingPathComponent(fact.noise_file).path)
            let tracer = CausalTracing(model: m.transformer, config: .init(samples: noise.shape[0]))
            let r = try tracer.run(tokens: ids, subject: subject, noiseStd: 0, noise: noise)
            #expect(r.target == fact.target_id)
            #expect(abs(r.cleanProbability - fact.clean_p) < 1e-3)
            #expect(abs(r.corruptedProbability - fact.corrupted_p) < 1e-3)
            let want = try TestFiles.floats(Self.dir.appendingPathComponent(fact.grids_file))
            let (kinds, nLayers, n) = (fact.grids_shape[0], fact.grids_shape[1], fact.grids_shape[2])
            #expect(kinds == CausalTracing.Kind.allCases.count && nLayers == layers.count && n == ids.count)
            for (k, kind) in CausalTracing.Kind.allCases.enumerated() where k < kinds {
                var worst = 0.0
                for l in layers { for t in 0..<n {
                    worst = max(worst, abs(r.grids[kind]![l][t] - Double(want[(k * nLayers + l) * n + t])))
                } }
                #expect(worst < 1e-3, "\(fact.prompt) \(kind): max cell difference \(worst)")
            }
        }
    }
}
