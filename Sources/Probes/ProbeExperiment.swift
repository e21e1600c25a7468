import Foundation

/// One probe experiment on one feature matrix (one hook point): the outlier rule, a seeded
/// stratified train/test split, k-fold cross-validation on the training part (choosing the
/// regularization from a grid when asked), the final fit, and the same probe on the control
/// task (Hewitt & Liang 2019) for selectivity.
public struct ProbeExperiment: Sendable, Codable {
    public var options: ProbeOptions
    /// Share of each class held out for testing.
    public var testFraction = 0.25
    /// Cross-validation folds on the training part (0 or 1: none).
    public var folds = 5
    /// Regularization values to choose from by cross-validation (`C` for logistic, `alpha`
    /// for ridge); empty keeps `options`' value.
    public var grid: [Double] = []
    /// Seed of the split, the folds and the control labels.
    public var seed: UInt64 = 1
    /// Applied when not nil; by default when standardizing.
    public var outlierRule: OutlierRule?
    /// Run the control task (needs each row's word).
    public var control = true

    public init(options: ProbeOptions = ProbeOptions(), testFraction: Double = 0.25, folds: Int = 5, grid: [Double] = [],
                seed: UInt64 = 1, outlierRule: OutlierRule? = nil, control: Bool = true) {
        self.options = options
        self.testFraction = testFraction
        self.folds = folds
        self.grid = grid
        self.seed = seed
        self.outlierRule = outlierRule
        self.control = control
    }

    /// What one experiment measured.
    public struct Result: Sendable, Codable {
        public var probe: LinearProbe
        public var trainAccuracy: Double
        public var testAccuracy: Double
        /// Cross-validated accuracy (mean and std over folds) at the chosen regularization; NaN without folds.
        public var cvMean: Double
        public var cvStd: Double
        /// The regularization used (`C` or `alpha`; NaN for difference of means).
        public var regularization: Double
        /// Control-task test accuracy and selectivity (NaN when no control was run).
        public var controlAccuracy: Double
        public var selectivity: Double
        /// Rows left out by the outlier rule (prompt indices) and the threshold norm.
        public var outlierPrompts: [Int]
        public var outlierThreshold: Float?
        /// Test confusion counts `[true class][predicted class]`.
        public var confusion: [[Int]]
        public var trainRows: Int
        public var testRows: Int
        public var iterations: Int
        public var converged: Bool
        /// The majority class's share of the test rows (chance for this split).
        public var majorityBaseline: Double
    }

    /// Runs the experiment on `m`.
    /// - Throws: ``ProbeError`` (one class, too few rows, underdetermined fits).
    public func run(_ m: FeatureMatrix) throws -> Result {
        guard m.classes.count >= 2, m.classCounts.filter({ $0 > 0 }).count >= 2 else {
            throw ProbeError.oneClass(label: "label", value: m.classes.first ?? "")
        }
        // The outlier rule: judged on norms against the median of all rows (train and test
        // alike, before the split, so both parts are treated the same).
        var data = m
        var outlierPrompts: [Int] = [], threshold: Float? = nil
        if let rule = outlierRule {
            let t = rule.threshold(norms: m.rowNorms())
            let out = Set(rule.outliers(m, threshold: t))
            threshold = t
            if !out.isEmpty {
                outlierPrompts = out.sorted().map { m.prompts[$0] }
                data = m.subset((0..<m.rows).filter { !out.contains($0) })
            }
        }
        if data.rows < 4 {
            throw ProbeError.tooFewExamples(needed: 4, have: data.rows, reason: "a train/test split needs at least two rows on each side")
        }
        let split = Splits.trainTest(labels: data.labels, testFraction: testFraction, seed: seed)
        let train = data.subset(split.train), test = data.subset(split.test)
        if train.classCounts.filter({ $0 > 0 }).count < 2 {
            throw ProbeError.tooFewExamples(needed: 2, have: train.rows, reason: "the training part holds one class only")
        }

        // Cross-validation on the training part; choose from the grid by mean accuracy (ties: the stronger regularization).
        var options = self.options
        var cv = (mean: Double.nan, std: Double.nan)
        if folds >= 2 {
            guard train.rows >= folds else {
                throw ProbeError.tooFewExamples(needed: folds, have: train.rows, reason: "\(folds)-fold cross-validation")
            }
            let parts = Splits.folds(labels: train.labels, k: folds, seed: seed &+ 1)
            let candidates = grid.isEmpty || options.kind == .diffmeans ? [regularization(options)] : grid
            var best: (value: Double, mean: Double, std: Double)? = nil
            for value in candidates {
                let o = with(options, regularization: value)
                var accuracies: [Double] = []
                for held in parts where !held.isEmpty {
                    let heldSet = Set(held)
                    let fitRows = train.subset((0..<train.rows).filter { !heldSet.contains($0) })
                    guard fitRows.classCounts.filter({ $0 > 0 }).count >= 2 else { continue }
                    let probe = try ProbeTrainer.fit(fitRows, o).probe
                    accuracies.append(probe.accuracy(train.subset(held)))
                }
                let mean = accuracies.reduce(0, +) / Double(max(accuracies.count, 1))
                let std = (accuracies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(accuracies.count, 1))).squareRoot()
                let stronger = best.map { options.kind == .ridge ? value > $0.value : value < $0.value } ?? true
                if best == nil || mean > best!.mean + 1e-12 || (abs(mean - best!.mean) <= 1e-12 && stronger) {
                    best = (value, mean, std)
                }
            }
            if let best {
                options = with(options, regularization: best.value)
                cv = (best.mean, best.std)
            }
        }

        let fit = try ProbeTrainer.fit(train, options)
        var probe = fit.probe
        probe.outlierNorm = threshold
        let predictions = probe.predict(test.x, rows: test.rows)
        var confusion = Array(repeating: [Int](repeating: 0, count: m.classes.count), count: m.classes.count)
        for (t, p) in zip(test.labels, predictions) { confusion[t][p] += 1 }
        let testAccuracy = Double(zip(test.labels, predictions).filter { $0 == $1 }.count) / Double(max(test.rows, 1))

        // The control task: same probe, same split, labels by word type.
        var controlAccuracy = Double.nan
        if control {
            let controlLabels = ControlTask.labels(words: data.words, labels: data.labels, seed: seed &+ 2)
            let cTrain = train.relabelled(split.train.map { controlLabels[$0] })
            let cTest = test.relabelled(split.test.map { controlLabels[$0] })
            controlAccuracy = try ProbeExperiment.accuracy(training: cTrain, testing: cTest, options)
        }
        let counts = test.classCounts
        return Result(probe: probe, trainAccuracy: probe.accuracy(train), testAccuracy: testAccuracy,
                      cvMean: cv.mean, cvStd: cv.std, regularization: regularization(options),
                      controlAccuracy: controlAccuracy, selectivity: testAccuracy - controlAccuracy,
                      outlierPrompts: outlierPrompts, outlierThreshold: threshold, confusion: confusion,
                      trainRows: train.rows, testRows: test.rows, iterations: fit.iterations, converged: fit.converged,
                      majorityBaseline: Double(counts.max() ?? 0) / Double(max(test.rows, 1)))
    }

    /// Test accuracy of a probe fitted on `training`; a training part with one class predicts that class.
    static func accuracy(training: FeatureMatrix, testing: FeatureMatrix, _ options: ProbeOptions) throws -> Double {
        let present = training.classCounts.enumerated().filter { $0.element > 0 }.map(\.offset)
        if present.count < 2 {
            let only = present.first ?? 0
            return Double(testing.labels.filter { $0 == only }.count) / Double(max(testing.rows, 1))
        }
        return try ProbeTrainer.fit(training, options).probe.accuracy(testing)
    }

    func regularization(_ o: ProbeOptions) -> Double {
        switch o.kind {
        case .logistic: return o.c
        case .ridge: return o.alpha
        case .diffmeans: return .nan
        }
    }

    func with(_ o: ProbeOptions, regularization value: Double) -> ProbeOptions {
        var o = o
        switch o.kind {
        case .logistic: o.c = value
        case .ridge: o.alpha = value
        case .diffmeans: break
        }
        return o
    }
}
