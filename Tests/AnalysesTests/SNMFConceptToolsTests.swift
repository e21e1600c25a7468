import Analyses
import Foundation
import Linalg
import Testing

/// The pieces of the concept comparison: ROC AUC against hand-counted pairs, and the codes of
/// new rows with the features fixed against planted codes.
struct SNMFConceptToolsTests {
    @Test func rocAUCCountsPairsWithTiesAsHalf() {
        // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered.
        #expect(ROCAUC.of([0.1, 0.4, 0.35, 0.8], positive: [false, false, true, true]) == 0.75)
        // Positives 1 and 2 against the negative 1: one tie (1/2) and one win, of 2 pairs.
        #expect(ROCAUC.of([1, 1, 2], positive: [true, false, true]) == 0.75)
        #expect(ROCAUC.of([3, 2, 1], positive: [true, false, false]) == 1)
        #expect(ROCAUC.of([1, 2], positive: [true, true]) == nil)
        #expect(ROCAUC.of([.nan, 2], positive: [true, false]) == nil)
    }

    /// Rows built as Z y* with y* >= 0 (some entries 0) and 3 overlapping features: the
    /// codes with Z fixed reach y* (the unique exact nonnegative fit).
    @Test func codesWithFixedFeaturesRecoverPlantedCodes() throws {
        let (k, d, t) = (3, 8, 5)
        var rng = SeededRandom(seed: 4)
        let z = (0..<k).map { _ in (0..<d).map { _ in rng.nextGaussian() } }
        var y = [Float](repeating: 0, count: k * t)
        for i in 0..<(k * t) where i % 4 != 1 { y[i] = 0.5 + rng.nextUniform() }
        var x = [Float](repeating: 0, count: t * d)
        for j in 0..<t { for n in 0..<d { for f in 0..<k { x[j * d + n] += z[f][n] * y[f * t + j] } } }
        let file = SNMFFile(features: z, neurons: d)
        let codes = try file.codes(of: x, rows: t, iterations: 3000)
        for i in 0..<(k * t) { #expect(abs(codes[i] - y[i]) < 1e-2, "code \(i): \(codes[i]) vs planted \(y[i])") }
        #expect(codes.allSatisfy { $0 >= 0 })
        #expect(throws: SNMFError.self) { try file.codes(of: [1, 2, 3], rows: 1) }
    }
}
