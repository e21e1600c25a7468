import Foundation
import Formats
import Probes
import Testing

/// scikit-learn's LogisticRegression on real SmolLM2 activations (committed float16 .npy,
/// made by scripts/fixtures/probes/make_sklearn_fixture.py): the same split, the same C,
/// StandardScaler first. Loupe's fit must reach the same test accuracy (within 1 point) and
/// coefficients correlated at >= 0.99.
@Suite struct SklearnReferenceTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/probes")

    static func fixture() throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("sklearn.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test(arguments: ["binary", "multinomial"])
    func matchesScikitLearn(_ name: String) throws {
        let all = try Self.fixture()
        let f = all[name] as! [String: Any]
        let x = try NumPyArray.read(path: Self.folder.appendingPathComponent(f["npy"] as! String).path)
        let classes = f["classes"] as! [String]
        let m = FeatureMatrix(x: x.scalars, rows: x.shape[0], width: x.shape[1], labels: f["labels"] as! [Int], classes: classes)
        let train = m.subset(f["train"] as! [Int]), test = m.subset(f["test"] as! [Int])
        let c = f["C"] as! Double
        let fit = try ProbeTrainer.fit(train, ProbeOptions(kind: .logistic, c: c, tolerance: all["tol"] as! Double))
        #expect(fit.converged)
        let accuracy = fit.probe.accuracy(test)
        let reference = f["test_accuracy"] as! Double
        #expect(abs(accuracy - reference) <= 0.01, "\(name): Loupe \(accuracy), scikit-learn \(reference)")
        let ours = fit.probe.standardizedWeights.flatMap { $0.map(Double.init) }
        let theirs = (f["coef"] as! [[Double]]).flatMap { $0 }
        #expect(ours.count == theirs.count)
        let r = correlation(ours, theirs)
        #expect(r >= 0.99, "\(name): coefficient correlation \(r)")
        print("sklearn reference \(name): test accuracy Loupe \(accuracy), scikit-learn \(reference); coefficient correlation \(r); \(fit.iterations) iterations")
    }
}

func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
    return sab / (saa * sbb).squareRoot()
}
