import Analyses
import Linalg
import Testing

struct SkipFitTests {
    /// Targets made exactly linear in the inputs, `y = x Wᵀ + b` with a known W and b: the fit
    /// gives them back (the ridge term, 1e-6 of the mean input variance here, is negligible).
    @Test func leastSquaresRecoversAKnownAffineMap() throws {
        let (n, d, dOut) = (400, 12, 12)
        var rng = SeededRandom(seed: 11)
        let w = (0..<(dOut * d)).map { _ in rng.nextGaussian() }, b = (0..<dOut).map { _ in rng.nextGaussian() }
        let x = (0..<(n * d)).map { _ in 3 * rng.nextGaussian() + 1 }
        var y = [Float](repeating: 0, count: n * dOut)
        for r in 0..<n {
            for o in 0..<dOut {
                var v = Double(b[o])
                for i in 0..<d { v += Double(x[r * d + i]) * Double(w[o * d + i]) }
                y[r * dOut + o] = Float(v)
            }
        }
        let fit = try SkipFit.leastSquares(input: Tensor(shape: [n, d], scalars: x), target: Tensor(shape: [n, dOut], scalars: y), ridge: 1e-6)
        #expect(TestFitError.maxAbs(fit.wSkip, w) < 1e-3)
        #expect(TestFitError.maxAbs(fit.bias, b) < 1e-3)
        // Mismatched rows are refused.
        #expect(throws: SAEError.self) {
            _ = try SkipFit.leastSquares(input: Tensor(shape: [3, d], scalars: [Float](repeating: 1, count: 3 * d)),
                                         target: Tensor(shape: [2, dOut], scalars: [Float](repeating: 1, count: 2 * dOut)))
        }
    }
}

private enum TestFitError {
    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
}
