import Foundation
import Linalg
import Probes
import Testing

@Suite struct LogisticRegressionTests {
    @Test func binaryFitMeetsTheGradientToleranceOfAnIndependentReference() throws {
        let m = blobs(rows: 400, width: 40, classes: 2, separation: 2, seed: 3)
        for c in [0.01, 1.0, 100.0] {
            let fit = try ProbeTrainer.fit(m, ProbeOptions(kind: .logistic, c: c, tolerance: 1e-6))
            #expect(fit.converged)
            let g = referenceGradientMax(fit.probe, m, c: c)
            #expect(g < 1e-4, "C \(c): max |gradient| \(g)")
        }
    }

    @Test func multinomialFitMeetsTheGradientTolerance() throws {
        let m = blobs(rows: 300, width: 20, classes: 4, separation: 3, seed: 5)
        let fit = try ProbeTrainer.fit(m, ProbeOptions(kind: .logistic, c: 0.5, tolerance: 1e-6))
        #expect(fit.converged && fit.probe.weights.count == 4)
        #expect(referenceGradientMax(fit.probe, m, c: 0.5) < 1e-4)
        #expect(fit.probe.accuracy(m) > 0.8)
        let p = fit.probe.probabilities(m.x, rows: m.rows)
        #expect(p.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-9 })
    }

    @Test func unstandardizedFitAgreesWithStandardizedOnPredictionsOfSeparatedData() throws {
        let m = blobs(rows: 200, width: 10, classes: 2, separation: 6, seed: 9)
        let a = try ProbeTrainer.fit(m, ProbeOptions(c: 1, standardize: false)).probe
        #expect(a.standardization == nil)
        #expect(referenceGradientMax(a, m, c: 1) < 1e-3)
        #expect(a.accuracy(m) > 0.95)
    }

    @Test func noRegularizationWithMoreFeaturesThanRowsIsAnError() {
        let m = blobs(rows: 30, width: 50, classes: 2, separation: 1, seed: 1)
        #expect(throws: ProbeError.self) { try ProbeTrainer.fit(m, ProbeOptions(c: .infinity)) }
        do { _ = try ProbeTrainer.fit(m, ProbeOptions(c: .infinity)) } catch {
            #expect("\(error)".contains("50 features and only 30 training rows"))
        }
        #expect(throws: ProbeError.self) { try RidgeRegression(alpha: 0).fitClassifier(m, standardize: true) }
    }
}

@Suite struct RidgeAndMeansTests {
    @Test func ridgeSolutionZeroesTheObjectivesGradient() throws {
        let m = blobs(rows: 120, width: 15, classes: 2, separation: 2, seed: 4)
        let y = (0..<m.rows).map { i in [Double(m.x[i * 15]) * 2 - Double(m.x[i * 15 + 3]) + 0.5] }
        for standardize in [false, true] {
            let (w, b) = try RidgeRegression(alpha: 3).fit(m, targets: y, standardize: standardize)
            let st = Standardization(fitting: m)
            let scale = standardize ? st.scale.map(Double.init) : Array(repeating: 1, count: 15)
            // Gradient in the scaled coordinates Xs = (X - mean) / scale, ws = w * scale:
            // Xsᵀ r + alpha ws, and Σ r = 0 removes the mean.
            var g = [Double](repeating: 0, count: 15), rsum = 0.0
            for i in 0..<m.rows {
                let r = b[0] + (0..<15).reduce(0.0) { $0 + w[0][$1] * Double(m.x[i * 15 + $1]) } - y[i][0]
                rsum += r
                for j in 0..<15 { g[j] += r * Double(m.x[i * 15 + j]) / scale[j] }
            }
            for j in 0..<15 { g[j] += 3 * w[0][j] * scale[j] }
            #expect(abs(rsum) < 1e-3 && g.map(abs).max()! < 1e-2, "standardize \(standardize): \(g.map(abs).max()!)")
        }
    }

    @Test func differenceOfMeansPointsFromOneMeanToTheOther() {
        let x: [Float] = [0, 0, 2, 0, 0, 2, 2, 2]
        let m = FeatureMatrix(x: x, rows: 4, width: 2, labels: [0, 0, 1, 1], classes: ["a", "b"])
        let p = DifferenceOfMeans.fit(m, standardization: nil)
        // means (1,0) and (1,2): direction (0,2), threshold y = 1.
        #expect(p.weights == [[0, 2]] && p.bias == [-2])
        #expect(p.predict([5, 0.9, 5, 1.1], rows: 2) == [0, 1])
        let multi = DifferenceOfMeans.fit(blobs(rows: 300, width: 12, classes: 3, separation: 8, seed: 2), standardization: nil)
        #expect(multi.weights.count == 3)
        #expect(multi.accuracy(blobs(rows: 300, width: 12, classes: 3, separation: 8, seed: 2)) > 0.9)
    }
}

@Suite struct SplitAndControlTests {
    @Test func splitsAreStratifiedDisjointAndSeeded() {
        let labels = (0..<100).map { $0 < 70 ? 0 : 1 }
        let s = Splits.trainTest(labels: labels, testFraction: 0.2, seed: 7)
        #expect(Set(s.train).isDisjoint(with: s.test) && s.train.count + s.test.count == 100)
        #expect(s.test.filter { $0 < 70 }.count == 14 && s.test.filter { $0 >= 70 }.count == 6)
        #expect(Splits.trainTest(labels: labels, testFraction: 0.2, seed: 7).test == s.test)
        #expect(Splits.trainTest(labels: labels, testFraction: 0.2, seed: 8).test != s.test)
        let folds = Splits.folds(labels: labels, k: 5, seed: 1)
        #expect(folds.map(\.count) == [20, 20, 20, 20, 20])
        #expect(Set(folds.joined()).count == 100)
    }

    @Test func controlLabelsAreAFunctionOfTheWord() {
        let words = ["a", "b", "a", "c", "b", "a", "d", "e", "f", "g"]
        let labels = [0, 1, 0, 1, 1, 0, 2, 2, 1, 0]
        let c = ControlTask.labels(words: words, labels: labels, seed: 3)
        #expect(c[0] == c[2] && c[2] == c[5] && c[1] == c[4])
        #expect(c == ControlTask.labels(words: words, labels: labels, seed: 3))
        #expect(c.allSatisfy { (0...2).contains($0) })
    }
}

@Suite struct ExperimentTests {
    @Test func outlierRowsAreLeftOutAndReported() throws {
        var m = blobs(rows: 200, width: 16, classes: 2, separation: 3, seed: 11)
        for j in 0..<16 { m.x[5 * 16 + j] *= 300 }     // a sink-like row, far above 10x the median norm
        let r = try ProbeExperiment(options: ProbeOptions(), outlierRule: OutlierRule()).run(m)
        #expect(r.outlierPrompts == [5])
        #expect(r.trainRows + r.testRows == 199)
        let kept = try ProbeExperiment(options: ProbeOptions(), outlierRule: nil).run(m)
        #expect(kept.outlierPrompts.isEmpty && kept.trainRows + kept.testRows == 200)
    }

    @Test func selectivityIsTaskMinusControlAndControlIsNearChanceForUniqueWords() throws {
        let m = blobs(rows: 400, width: 20, classes: 2, separation: 4, seed: 12)
        let r = try ProbeExperiment(options: ProbeOptions(), folds: 5).run(m)
        #expect(r.testAccuracy > 0.9)
        #expect(abs(r.selectivity - (r.testAccuracy - r.controlAccuracy)) < 1e-12)
        #expect(r.controlAccuracy < 0.7, "every word unique: nothing to memorize, got \(r.controlAccuracy)")
        #expect(r.cvMean > 0.85 && r.cvStd >= 0)
        #expect(r.confusion.joined().reduce(0, +) == r.testRows)
    }

    @Test func controlIsLearnableWhenWordsRecur() throws {
        // Labels carry no signal in x except through word identity: 10 words, each with its own offset.
        var rng = SeededRandom(seed: 4)
        let offsets = (0..<10).map { _ in (0..<20).map { _ in rng.nextGaussian() * 3 } }
        var x: [Float] = [], words: [String] = [], labels: [Int] = []
        for i in 0..<400 {
            let w = i % 10
            words.append("w\(w)"); labels.append(w % 2)
            for j in 0..<20 { x.append(offsets[w][j] + rng.nextGaussian() * 0.3) }
        }
        let m = FeatureMatrix(x: x, rows: 400, width: 20, labels: labels, classes: ["a", "b"], words: words)
        let r = try ProbeExperiment(options: ProbeOptions(), folds: 0).run(m)
        #expect(r.controlAccuracy > 0.9, "word identity is in x, so random per-word labels are learnable: \(r.controlAccuracy)")
        #expect(r.selectivity < 0.1)
    }

    @Test func cvChoosesFromTheGrid() throws {
        let m = blobs(rows: 200, width: 30, classes: 2, separation: 2, seed: 13)
        let r = try ProbeExperiment(options: ProbeOptions(), folds: 4, grid: [0.001, 0.1, 10]).run(m)
        #expect([0.001, 0.1, 10].contains(r.regularization))
    }

    @Test func oneClassIsAnError() {
        let m = FeatureMatrix(x: [1, 2, 3, 4], rows: 2, width: 2, labels: [0, 0], classes: ["only"])
        #expect(throws: ProbeError.oneClass(label: "label", value: "only")) { try ProbeExperiment().run(m) }
    }
}

@Suite struct ProbeFileTests {
    @Test func probeFileRoundTripsAndPredictsTheSame() throws {
        let m = blobs(rows: 100, width: 8, classes: 3, separation: 5, seed: 21)
        let probe = try ProbeTrainer.fit(m, ProbeOptions()).probe
        let file = ProbeFile(model: "m", modelHash: "h", hook: "blocks.3.hook_resid_post", position: .last, dataset: "d",
                             label: "label", probe: probe, metrics: ["testAccuracy": 0.9, "cvMean": .nan])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID()).json").path
        try file.encoded().write(to: URL(fileURLWithPath: path))
        let back = try ProbeFile.load(path)
        #expect(back.probe == probe && back.metrics == ["testAccuracy": 0.9])
        #expect(back.probe.predict(m.x, rows: m.rows) == probe.predict(m.x, rows: m.rows))
        let d = probe.direction(for: "c1")
        #expect(abs(d.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        try "{\"format\": \"other\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ProbeError.self) { try ProbeFile.load(path) }
    }
}
