import Linalg

/// A ridge probe of a numeric target on one hook point's rows: the outlier rule, a seeded
/// random train/test split, k-fold cross-validation on the training part choosing `alpha`
/// from a grid by mean held-out R², the fit (features standardized as the classifiers do),
/// R² and MSE on both parts, the baseline that predicts the training mean, and a control:
/// the same probe fitted on the targets shuffled among the prompts (seeded), which no
/// representation can predict, so its held-out R² is what fitting noise reaches.
public struct RegressionExperiment: Sendable {
    /// Ridge strength when ``grid`` is empty.
    public var alpha: Double
    /// Strengths to choose from by cross-validated R² (empty: ``alpha``).
    public var grid: [Double]
    public var standardize: Bool
    /// Share of the rows held out for testing.
    public var testFraction: Double
    /// Cross-validation folds on the training part (0 or 1: none).
    public var folds: Int
    /// Seed of the split, the folds and the shuffled control.
    public var seed: UInt64
    /// Applied when not nil (the CLI applies it when standardizing, as for classifiers).
    public var outlierRule: OutlierRule?
    /// Fit the shuffled-target control.
    public var control: Bool

    /// The strengths `--alpha auto` chooses from.
    public static let defaultGrid: [Double] = [0.1, 1, 10, 100, 1000, 10000, 100000]

    public init(alpha: Double = 1, grid: [Double] = RegressionExperiment.defaultGrid, standardize: Bool = true,
                testFraction: Double = 0.25, folds: Int = 5, seed: UInt64 = 1, outlierRule: OutlierRule? = nil,
                control: Bool = true) {
        self.alpha = alpha
        self.grid = grid
        self.standardize = standardize
        self.testFraction = testFraction
        self.folds = folds
        self.seed = seed
        self.outlierRule = outlierRule
        self.control = control
    }

    /// What one experiment measured.
    public struct Result: Sendable {
        /// The fitted probe: one weight row in raw activation space, `classes` = [the field];
        /// its score is the predicted value.
        public var probe: LinearProbe
        public var alpha: Double
        public var trainR2: Double
        public var testR2: Double
        public var trainMSE: Double
        public var testMSE: Double
        /// Cross-validated R² at the chosen alpha (mean, std over folds); NaN without folds.
        public var cvR2Mean: Double
        public var cvR2Std: Double
        /// Predicting the training mean for every test row.
        public var baselineMSE: Double
        public var baselineR2: Double
        /// The probe fitted on shuffled targets, scored on the (shuffled) test targets; NaN without control.
        public var controlR2: Double
        public var controlMSE: Double
        /// Test R² minus control R².
        public var selectivity: Double { testR2 - controlR2 }
        public var outlierPrompts: [Int]
        public var outlierThreshold: Float?
        public var trainRows: Int
        public var testRows: Int
        /// Held-out prompts (indices in the dataset), their values and the probe's predictions.
        public var testPrompts: [Int]
        public var testTargets: [Double]
        public var testPredictions: [Double]
    }

    /// Runs the experiment.
    /// - Throws: ``ProbeError/constantTarget(field:value:)`` when every value is the same,
    ///   ``ProbeError/tooFewExamples(needed:have:reason:)``, ``ProbeError/underdetermined(features:rows:what:)``.
    public func run(_ all: RegressionData) throws -> Result {
        if let first = all.targets.first, all.targets.allSatisfy({ $0 == first }) {
            throw ProbeError.constantTarget(field: all.field, value: first)
        }
        var data = all
        var outlierPrompts: [Int] = [], threshold: Float? = nil
        if let rule = outlierRule {
            let t = rule.threshold(norms: all.matrix.rowNorms())
            let out = Set(rule.outliers(all.matrix, threshold: t))
            threshold = t
            if !out.isEmpty {
                outlierPrompts = out.sorted().map { all.matrix.prompts[$0] }
                data = all.subset((0..<all.rows).filter { !out.contains($0) })
            }
        }
        if data.rows < 4 {
            throw ProbeError.tooFewExamples(needed: 4, have: data.rows, reason: "a train/test split needs at least two rows on each side")
        }
        let split = Splits.trainTest(labels: Array(repeating: 0, count: data.rows), testFraction: testFraction, seed: seed)
        let train = data.subset(split.train), test = data.subset(split.test)

        var chosen = alpha, cv = (mean: Double.nan, std: Double.nan)
        if folds >= 2 {
            guard train.rows >= 2 * folds else {
                throw ProbeError.tooFewExamples(needed: 2 * folds, have: train.rows, reason: "\(folds)-fold cross-validation needs two training rows per fold")
            }
            (chosen, cv) = try crossValidate(train)
        }
        let ridge = RidgeRegression(alpha: chosen)
        var probe = try ridge.fitValues(train, standardize: standardize)
        probe.outlierNorm = threshold
        let trainPredicted = Self.predict(probe, train), testPredicted = Self.predict(probe, test)
        let trainMean = train.targets.reduce(0, +) / Double(train.rows)
        let baseline = Array(repeating: trainMean, count: test.rows)

        var control = (r2: Double.nan, mse: Double.nan)
        if self.control {
            var rng = SeededRandom(seed: seed &+ 2)
            let shuffled = Splits.shuffle(Array(0..<data.rows), &rng).map { data.targets[$0] }
            let cTrain = train.retargeted(split.train.map { shuffled[$0] }), cTest = test.retargeted(split.test.map { shuffled[$0] })
            let controlProbe = try ridge.fitValues(cTrain, standardize: standardize)
            let predicted = Self.predict(controlProbe, cTest)
            control = (RegressionMetrics.r2(predicted: predicted, actual: cTest.targets),
                       RegressionMetrics.mse(predicted: predicted, actual: cTest.targets))
        }
        return Result(probe: probe, alpha: chosen,
                      trainR2: RegressionMetrics.r2(predicted: trainPredicted, actual: train.targets),
                      testR2: RegressionMetrics.r2(predicted: testPredicted, actual: test.targets),
                      trainMSE: RegressionMetrics.mse(predicted: trainPredicted, actual: train.targets),
                      testMSE: RegressionMetrics.mse(predicted: testPredicted, actual: test.targets),
                      cvR2Mean: cv.mean, cvR2Std: cv.std,
                      baselineMSE: RegressionMetrics.mse(predicted: baseline, actual: test.targets),
                      baselineR2: RegressionMetrics.r2(predicted: baseline, actual: test.targets),
                      controlR2: control.r2, controlMSE: control.mse,
                      outlierPrompts: outlierPrompts, outlierThreshold: threshold,
                      trainRows: train.rows, testRows: test.rows, testPrompts: test.matrix.prompts,
                      testTargets: test.targets, testPredictions: testPredicted)
    }

    /// The grid value with the best mean held-out R² over the folds (ties: the larger alpha).
    func crossValidate(_ train: RegressionData) throws -> (Double, (mean: Double, std: Double)) {
        let candidates = grid.isEmpty ? [alpha] : grid
        let parts = Splits.folds(labels: Array(repeating: 0, count: train.rows), k: folds, seed: seed &+ 1)
        var scores = Array(repeating: [Double](), count: candidates.count)
        for held in parts where !held.isEmpty {
            let heldSet = Set(held)
            let fitRows = train.subset((0..<train.rows).filter { !heldSet.contains($0) }), heldRows = train.subset(held)
            let probes = try RidgeRegression.fitValues(fitRows, alphas: candidates, standardize: standardize)
            for (i, p) in probes.enumerated() {
                scores[i].append(RegressionMetrics.r2(predicted: Self.predict(p, heldRows), actual: heldRows.targets))
            }
        }
        var best: (alpha: Double, mean: Double, std: Double)? = nil
        for (value, s) in zip(candidates, scores) {
            let finite = s.filter { $0.isFinite }
            let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
            let std = (finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(finite.count, 1))).squareRoot()
            if best == nil || mean > best!.mean + 1e-12 || (abs(mean - best!.mean) <= 1e-12 && value > best!.alpha) {
                best = (value, mean, std)
            }
        }
        return (best!.alpha, (best!.mean, best!.std))
    }

    /// The probe's predictions for `data`'s rows.
    public static func predict(_ probe: LinearProbe, _ data: RegressionData) -> [Double] {
        probe.scores(data.matrix.x, rows: data.rows).map(Double.init)
    }
}
