import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// ``GeometricMedian`` against cases with a known answer and a SciPy reference.
struct GeometricMedianTests {
    /// The Fermat point of the triangle (0,0), (1,0), (0.5,2): every angle is below 120°, so
    /// it sees each side under 120°, on the axis x = 0.5 at height 0.5 / tan 60° = 0.5/√3
    /// (the mean is at height 2/3).
    @Test func triangleFermatPoint() {
        let r = GeometricMedian.of([0, 0, 1, 0, 0.5, 2], rows: 3, width: 2)
        #expect(r.converged && r.iterations <= 100)
        #expect(abs(r.median[0] - 0.5) < 1e-6 && abs(r.median[1] - 0.5 / 3.0.squareRoot()) < 1e-5, "\(r)")
    }

    /// Points symmetric about a centre in every axis, at different distances: the median is the centre.
    @Test func symmetricPointsGiveTheCentre() {
        let c: [Float] = [1.5, -2, 0.25]
        var points: [Float] = []
        for (axis, a) in [(0, Float(1)), (1, 3), (2, 0.5)] {
            for sign in [Float(1), -1] {
                var p = c
                p[axis] += sign * a
                points += p
            }
        }
        let r = GeometricMedian.of(points, rows: 6, width: 3)
        for j in 0..<3 { #expect(abs(r.median[j] - Double(c[j])) < 1e-9, "\(r.median)") }
    }

    /// 34 points near a centre and 6 far outliers (Tests/Fixtures/sae/geometric-median.json,
    /// made by scripts/fixtures/sae/make_geometric_median_fixture.py with SciPy's BFGS on the
    /// summed distances): the defaults land within 1e-4 of SciPy's median, iterated to
    /// stagnation within 1e-7, and both far from the mean.
    @Test func matchesSciPy() throws {
        let url = TestFiles.fixtures.appendingPathComponent("sae/geometric-median.json")
        let f = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let (n, d) = (f["rows"] as! Int, f["width"] as! Int)
        let points = (f["points"] as! [Double]).map(Float.init)
        let reference = f["median"] as! [Double], mean = f["mean"] as! [Double]
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let quick = GeometricMedian.of(points, rows: n, width: d)
        #expect(distance(quick.median, reference) < 1e-4, "defaults: \(quick.iterations) iterations, converged \(quick.converged)")
        let tight = GeometricMedian.of(points, rows: n, width: d, maxIterations: 100_000, tolerance: 0)
        #expect(distance(tight.median, reference) < 1e-7)
        #expect(abs(tight.objective - (f["objective"] as! Double)) <= 1e-12 * tight.objective + 1e-12)
        #expect(distance(reference, mean) > 5, "the fixture's median and mean should differ")
    }
}
