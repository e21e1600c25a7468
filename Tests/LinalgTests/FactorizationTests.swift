import Foundation
import Linalg
import Testing

/// LAPACK wrappers and the extra BLAS shapes, against hand-computed answers and matrices
/// whose factorizations are known by construction.
@Suite struct FactorizationTests {
    @Test func choleskySolveMatchesTheHandSolution() throws {
        // [[4, 2], [2, 3]] x = [2, 1] has x = (1/8) [[3, -2], [-2, 4]] [2, 1] = [0.5, 0];
        // the second right-hand side [0, 8] gives [-2, 4].
        let x = try LAPACK.choleskySolve([4, 2, 2, 3], [2, 0, 1, 8], n: 2, rightHandSides: 2)
        #expect(zip(x, [0.5, -2, 0, 4]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(x)")
    }

    @Test func choleskySolveRejectsAnIndefiniteMatrixAndBadSizes() {
        #expect(throws: LinalgError.notPositiveDefinite(order: 2)) {
            try LAPACK.choleskySolve([1, 2, 2, 1], [1, 1], n: 2, rightHandSides: 1)
        }
        #expect(throws: LinalgError.self) { try LAPACK.choleskySolve([1, 0, 0], [1, 1], n: 2, rightHandSides: 1) }
        #expect(throws: LinalgError.self) { try LAPACK.choleskySolve([1, 0, 0, 1], [1], n: 2, rightHandSides: 1) }
        #expect(throws: LinalgError.self) { try LAPACK.choleskySolve([], [], n: 0, rightHandSides: 1) }
    }

    @Test func symmetricEigenOfATwoByTwo() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1)/√2 and (1, 1)/√2.
        let (values, vectors) = try LAPACK.symmetricEigen([2, 1, 1, 2], n: 2)
        #expect(abs(values[0] - 1) < 1e-12 && abs(values[1] - 3) < 1e-12, "\(values)")
        let r = 1 / 2.0.squareRoot()
        // Column 0 (rows 0 and 1 of column 0), up to sign.
        #expect(abs(abs(vectors[0]) - r) < 1e-12 && abs(vectors[0] + vectors[2]) < 1e-12)
        #expect(abs(abs(vectors[1]) - r) < 1e-12 && abs(vectors[1] - vectors[3]) < 1e-12)
    }

    @Test func symmetricEigenSatisfiesTheEigenEquation() throws {
        var rng = SeededRandom(seed: 3)
        let n = 7
        var b = (0..<(n * n)).map { _ in Double(rng.nextGaussian()) }
        for i in 0..<n { for j in 0..<i { b[i * n + j] = b[j * n + i] } }  // symmetric
        let (values, v) = try LAPACK.symmetricEigen(b, n: n)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "ascending: \(values)")
        for k in 0..<n {
            for i in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + b[i * n + $1] * v[$1 * n + k] }
                #expect(abs(av - values[k] * v[i * n + k]) < 1e-10)
            }
            for l in 0..<n {
                let dot = (0..<n).reduce(0.0) { $0 + v[$1 * n + k] * v[$1 * n + l] }
                #expect(abs(dot - (k == l ? 1 : 0)) < 1e-10)
            }
        }
    }

    /// `I - 2 w wᵀ / wᵀw`: an orthogonal matrix.
    func householder(_ w: [Double]) -> [Double] {
        let n = w.count, ww = w.reduce(0) { $0 + $1 * $1 }
        return (0..<(n * n)).map { (($0 / n) == ($0 % n) ? 1 : 0) - 2 * w[$0 / n] * w[$0 % n] / ww }
    }

    @Test func svdRecoversSingularValuesBuiltIn() throws {
        // A = P[:, :3] diag(5, 3, 0.5) Qᵀ with orthogonal P (4 x 4) and Q (3 x 3).
        let p = householder([1, -2, 0.5, 3]), q = householder([2, 1, -1])
        let s = [5.0, 3, 0.5]
        var a = [Double](repeating: 0, count: 12)
        for i in 0..<4 { for j in 0..<3 { for k in 0..<3 { a[i * 3 + j] += p[i * 4 + k] * s[k] * q[j * 3 + k] } } }
        let (u, sv, vt) = try LAPACK.svd(a, rows: 4, cols: 3)
        #expect(zip(sv, s).allSatisfy { abs($0 - $1) < 1e-12 }, "\(sv)")
        for i in 0..<4 {
            for j in 0..<3 {
                let back = (0..<3).reduce(0.0) { $0 + u[i * 3 + $1] * sv[$1] * vt[$1 * 3 + j] }
                #expect(abs(back - a[i * 3 + j]) < 1e-12)
            }
        }
        #expect(throws: LinalgError.self) { try LAPACK.svd(a, rows: 5, cols: 3) }
    }

    @Test func transposedProductsMatchLoops() {
        var rng = SeededRandom(seed: 5)
        let (k, m, n) = (9, 4, 6)
        let a = (0..<(k * m)).map { _ in rng.nextGaussian() }, b = (0..<(k * n)).map { _ in rng.nextGaussian() }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            BLAS.gemmTransposedA(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
        } } }
        for i in 0..<m {
            for j in 0..<n {
                let want = (0..<k).reduce(0.0) { $0 + Double(a[$1 * m + i]) * Double(b[$1 * n + j]) }
                #expect(abs(Double(c[i * n + j]) - want) < 1e-4)
            }
        }
        let x = (0..<k).map { _ in rng.nextGaussian() }
        var y = [Float](repeating: 0, count: m)
        a.withUnsafeBufferPointer { ap in x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            BLAS.gemvTransposed(n: k, k: m, w: ap.baseAddress!, x: xp.baseAddress!, y: yp.baseAddress!)
        } } }
        for i in 0..<m {
            let want = (0..<k).reduce(0.0) { $0 + Double(a[$1 * m + i]) * Double(x[$1]) }
            #expect(abs(Double(y[i]) - want) < 1e-4)
        }
        let norm = x.withUnsafeBufferPointer { BLAS.norm(n: k, x: $0.baseAddress!) }
        #expect(abs(Double(norm) - x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()) < 1e-5)
    }
}

/// The optimizers that analyses train with.
@Suite struct OptimizerTests {
    @Test func adamsFirstTwoStepsMatchTheHandComputation() {
        // Step 1: m̂ = g, v̂ = g², so p moves by -lr · g / (|g| + ε).
        var adam = Adam(learningRate: 0.1)
        var p: [Float] = [1, -2, 0.5]
        let g1: [Float] = [0.5, -4, 2]
        adam.step(&p, gradient: g1)
        for (i, start) in [Float(1), -2, 0.5].enumerated() {
            #expect(abs(p[i] - (start - 0.1 * g1[i] / (abs(g1[i]) + 1e-8))) < 1e-6, "\(p)")
        }
        // Step 2 with g2: m = 0.9·0.1·g1 + 0.1·g2, v = 0.999·0.001·g1² + 0.001·g2², bias-corrected.
        let g2: [Float] = [1, 1, -2]
        let before = p
        adam.step(&p, gradient: g2)
        for i in 0..<3 {
            let (a, b) = (Double(g1[i]), Double(g2[i]))
            let m = (0.9 * 0.1 * a + 0.1 * b) / (1 - 0.81)
            let v = (0.999 * 0.001 * a * a + 0.001 * b * b) / (1 - 0.999 * 0.999)
            #expect(abs(Double(p[i]) - (Double(before[i]) - 0.1 * m / (v.squareRoot() + 1e-8))) < 1e-5)
        }
        #expect(adam.steps == 2)
    }

    /// A long array is updated on several threads, eight lanes at a time; every element must
    /// get the bits of the plain scalar update (odd length: a scalar tail too).
    @Test func adamOnAllCoresGivesTheScalarUpdatesBits() {
        let count = 300_001
        var rng = SeededRandom(seed: 4)
        var p = (0..<count).map { _ in rng.nextGaussian() }
        var (m, v) = ([Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
        var expected = p
        var adam = Adam(learningRate: 0.01)
        var (b1Power, b2Power): (Float, Float) = (1, 1)
        for _ in 0..<3 {
            let g = (0..<count).map { _ in rng.nextGaussian() }
            adam.step(&p, gradient: g)
            b1Power *= 0.9
            b2Power *= 0.999
            let (c1, c2) = (1 - b1Power, 1 - b2Power)
            for i in 0..<count {
                m[i] = 0.9 * m[i] + (1 - 0.9) * g[i]
                v[i] = 0.999 * v[i] + (1 - 0.999) * g[i] * g[i]
                expected[i] -= 0.01 * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
            }
        }
        #expect(p.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(adam.state.m.map(\.bitPattern) == m.map(\.bitPattern))
    }

    @Test func adamMinimizesAQuadratic() {
        var adam = Adam(learningRate: 0.05)
        var p: [Float] = [3, -1, 0]
        let target: [Float] = [1, 2, -0.5]
        for _ in 0..<2000 { adam.step(&p, gradient: zip(p, target).map { 2 * ($0 - $1) }) }
        #expect(zip(p, target).allSatisfy { abs($0 - $1) < 1e-2 }, "\(p)")
    }

    @Test func lbfgsFindsTheMinimumOfAnIllConditionedQuadratic() {
        // f = ½ Σ aᵢ xᵢ² - Σ xᵢ with a = (1, 10, 100): the minimum is xᵢ = 1 / aᵢ.
        let a = [1.0, 10, 100]
        let result = LBFGS(tolerance: 1e-10).minimize([0, 0, 0]) { x, g in
            for i in 0..<3 { g[i] = a[i] * x[i] - 1 }
            return (0..<3).reduce(0.0) { $0 + 0.5 * a[$1] * x[$1] * x[$1] - x[$1] }
        }
        #expect(result.converged)
        #expect(zip(result.x, [1, 0.1, 0.01]).allSatisfy { abs($0 - $1) < 1e-8 }, "\(result.x)")
    }
}
