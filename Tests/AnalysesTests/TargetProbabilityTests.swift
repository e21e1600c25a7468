import Analyses
import Foundation
import Linalg
import Testing

@Suite struct TargetProbabilityTests {
    /// Rows of a vocabulary-sized softmax (not a multiple of 8 or of the 512-logit blocks)
    /// against a Double softmax: 1e-6 relative, plus 1e-10 for tiny probabilities, whose
    /// Float logit differences (about -50 here) carry a relative rounding of a few 1e-6.
    @Test func matchesADoubleSoftmax() {
        var rng = SeededRandom(seed: 9)
        let (rows, vocab) = (5, 49_157)
        var logits = (0..<(rows * vocab)).map { _ in 4 * rng.nextGaussian() }
        logits[2 * vocab + 17] = 40          // one row dominated by a single logit
        let packed = Tensor(shape: [rows, vocab], scalars: logits)
        for target in [0, 17, 4_096, vocab - 1] {
            let got = targetProbabilities(packed, target: target)
            for r in 0..<rows {
                let row = logits[(r * vocab)..<((r + 1) * vocab)].map(Double.init)
                let m = row.max()!
                let want = exp(row[target] - m) / row.reduce(0) { $0 + exp($1 - m) }
                #expect(abs(got[r] - want) <= 1e-6 * want + 1e-10, "row \(r) target \(target): \(got[r]) vs \(want)")
                #expect(abs(targetProbability(Array(logits[(r * vocab)..<((r + 1) * vocab)]), target: target) - got[r]) == 0)
            }
        }
    }

    @Test func nanLogitsGiveNaN() {
        var row = [Float](repeating: 0, count: 100)
        row[50] = .nan
        #expect(targetProbability(row, target: 3).isNaN)
        #expect(targetProbability([Float](repeating: -.infinity, count: 9), target: 0).isNaN)
    }
}
