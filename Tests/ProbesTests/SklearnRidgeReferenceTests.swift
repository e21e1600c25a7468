import Foundation
import Formats
import Probes
import Testing

/// scikit-learn's `Ridge` after `StandardScaler` on real SmolLM2 activations (world places,
/// blocks.23.hook_resid_post, committed float16 .npy; made by
/// scripts/fixtures/probes/make_ridge_fixture.py): the same split and alpha give the same
/// held-out predictions, R² and MSE, and the same standardized coefficients. Loupe's Gram or
/// kernel matrix is float32 (sgemm), scikit-learn's float64, so the tolerances are relative:
/// predictions within 1e-3 of the targets' spread, coefficients within 1e-3 of the largest.
@Suite struct SklearnRidgeReferenceTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/probes")

    @Test func matchesScikitLearnRidge() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("ridge-sklearn.json"))
        let f = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let x = try NumPyArray.read(path: Self.folder.appendingPathComponent(f["npy"] as! String).path)
        let train = f["train"] as! [Int], test = f["test"] as! [Int]
        for case let c as [String: Any] in f["cases"] as! [Any] {
            let name = "\(c["target"]!) alpha \(c["alpha"]!)"
            let all = RegressionData(x: x.scalars, rows: x.shape[0], width: x.shape[1], targets: c["y"] as! [Double],
                                     field: c["target"] as! String)
            let fitRows = all.subset(train), heldRows = all.subset(test)
            let probe = try RidgeRegression(alpha: c["alpha"] as! Double).fitValues(fitRows, standardize: true)
            let predicted = RegressionExperiment.predict(probe, heldRows)
            let reference = c["predictions"] as! [Double]
            let spread = (heldRows.targets.max()! - heldRows.targets.min()!)
            let dp = zip(predicted, reference).map { abs($0 - $1) }.max()!
            #expect(dp <= 1e-3 * spread, "\(name): max |Δ prediction| \(dp) (spread \(spread))")
            let r2 = RegressionMetrics.r2(predicted: predicted, actual: heldRows.targets)
            let mse = RegressionMetrics.mse(predicted: predicted, actual: heldRows.targets)
            #expect(abs(r2 - (c["test_r2"] as! Double)) <= 1e-4, "\(name): R² \(r2) vs \(c["test_r2"]!)")
            #expect(abs(mse - (c["test_mse"] as! Double)) <= 1e-4 * (c["test_mse"] as! Double), "\(name): MSE \(mse)")
            let ours = probe.standardizedWeights[0].map(Double.init), theirs = c["coef"] as! [Double]
            let top = theirs.map(abs).max()!
            let dw = zip(ours, theirs).map { abs($0 - $1) }.max()!
            #expect(dw <= 1e-3 * top, "\(name): max |Δ coef| \(dw) of \(top)")
            print("sklearn ridge \(name): R² Loupe \(r2), scikit-learn \(c["test_r2"]!); max |Δ prediction| \(dp); max |Δ coef| / max |coef| \(dw / top)")
        }
    }
}
