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

    /// Few rows for many inputs and targets that are mostly noise: a weak ridge fits the noise
    /// and predicts fresh rows badly; the validated fit picks a stronger ridge (on its held-out
    /// fifth) and predicts fresh rows of the same distribution better. On noise-free linear
    /// data it keeps the weakest candidate.
    @Test func validatedRidgePredictsFreshRowsBetter() throws {
        let (n, d, dOut) = (60, 40, 5)
        var rng = SeededRandom(seed: 5)
        let w = (0..<(dOut * d)).map { _ in 0.05 * rng.nextGaussian() }
        func draw(_ rows: Int) -> (Tensor, Tensor) {
            let x = (0..<(rows * d)).map { _ in rng.nextGaussian() }
            var y = [Float](repeating: 0, count: rows * dOut)
            for r in 0..<rows { for o in 0..<dOut {
                var v = Double(rng.nextGaussian())
                for i in 0..<d { v += Double(x[r * d + i]) * Double(w[o * d + i]) }
                y[r * dOut + o] = Float(v)
            } }
            return (Tensor(shape: [rows, d], scalars: x), Tensor(shape: [rows, dOut], scalars: y))
        }
        let (x, y) = draw(n), (xFresh, yFresh) = draw(2000)
        let weak = try SkipFit.leastSquares(input: x, target: y, ridge: SkipFit.candidateRidges[0])
        let chosen = try SkipFit.validated(input: x, target: y)
        #expect(chosen.ridge > SkipFit.candidateRidges[0])
        let errorWeak = SkipFit.squaredError(wSkip: weak.wSkip, bias: weak.bias, input: xFresh, target: yFresh)
        let errorChosen = SkipFit.squaredError(wSkip: chosen.wSkip, bias: chosen.bias, input: xFresh, target: yFresh)
        #expect(errorChosen < 0.8 * errorWeak)

        // Exactly linear targets: the weakest ridge predicts best.
        var exact = [Float](repeating: 0, count: 400 * dOut)
        let (xe, _) = draw(400)
        for r in 0..<400 { for o in 0..<dOut {
            var v = 0.0
            for i in 0..<d { v += Double(xe.scalars[r * d + i]) * Double(w[o * d + i]) }
            exact[r * dOut + o] = Float(v)
        } }
        #expect(try SkipFit.validated(input: xe, target: Tensor(shape: [400, dOut], scalars: exact)).ridge == SkipFit.candidateRidges[0])
    }
}

private enum TestFitError {
    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
}
