import Foundation
import Reporting

/// The results of one ridge probe of a numeric target per hook point, and the report folder
/// made from them: `layers.csv` (R² and MSE on train and test, cross-validated R², the
/// training-mean baseline, the shuffled-target control, alpha), `layers.svg` (R² by layer),
/// `predictions.csv` (held-out values and predictions at the best layer), `summary.txt` and
/// `index.html`.
public struct RegressionReport: Sendable {
    /// One hook point's experiment.
    public struct Layer: Sendable {
        public var hook: String
        public var layer: Int?
        public var result: RegressionExperiment.Result

        public init(hook: String, layer: Int?, result: RegressionExperiment.Result) {
            self.hook = hook
            self.layer = layer
            self.result = result
        }
    }

    public var model: String
    public var dataset: String
    public var target: String
    public var position: ReadPosition
    public var standardized: Bool
    public var layers: [Layer]
    public var examples: Int

    public init(model: String, dataset: String, target: String, position: ReadPosition, standardized: Bool,
                layers: [Layer], examples: Int) {
        self.model = model
        self.dataset = dataset
        self.target = target
        self.position = position
        self.standardized = standardized
        self.layers = layers
        self.examples = examples
    }

    /// The best layer: highest cross-validated R² (test R² without folds), so the test split
    /// does not choose; ties go to the earlier layer.
    public var best: Layer? {
        func key(_ r: RegressionExperiment.Result) -> Double {
            let k = r.cvR2Mean.isNaN ? r.testR2 : r.cvR2Mean
            return k.isNaN ? -.infinity : k
        }
        return layers.enumerated().max { a, b in
            let (x, y) = (key(a.element.result), key(b.element.result))
            return x < y || (x == y && a.offset > b.offset)
        }?.element
    }

    /// The per-layer table.
    public var table: CSVTable {
        var t = CSVTable(header: ["hook", "layer", "train_r2", "test_r2", "cv_r2_mean", "cv_r2_std", "control_r2",
                                  "selectivity", "baseline_r2", "train_mse", "test_mse", "baseline_mse", "control_mse",
                                  "alpha", "train_rows", "test_rows", "outliers"])
        for l in layers {
            let r = l.result
            t.append([.string(l.hook), l.layer.map { .int($0) } ?? .string(""), .double(r.trainR2), .double(r.testR2),
                      .double(r.cvR2Mean), .double(r.cvR2Std), .double(r.controlR2), .double(r.selectivity),
                      .double(r.baselineR2), .double(r.trainMSE), .double(r.testMSE), .double(r.baselineMSE),
                      .double(r.controlMSE), .double(r.alpha), .int(r.trainRows), .int(r.testRows),
                      .int(r.outlierPrompts.count)])
        }
        return t
    }

    /// The finding as plain sentences.
    public var finding: [String] {
        guard let b = best else { return ["No hook point was probed."] }
        let r = b.result
        let f = { (x: Double) in NumberFormat.fixed(x, decimals: 2) }
        var s = ["'\(target)' is predicted best at \(b.hook): held-out R² \(f(r.testR2)) (cross-validated \(f(r.cvR2Mean.isNaN ? r.testR2 : r.cvR2Mean))), "
                 + "RMSE \(NumberFormat.string(r.testMSE.squareRoot())) against \(NumberFormat.string(r.baselineMSE.squareRoot())) for the training mean."]
        if !r.controlR2.isNaN {
            s.append("The same probe fitted on shuffled values reaches R² \(f(r.controlR2)) on held-out rows, "
                     + (r.testR2 > r.controlR2 + 0.2 ? "so the fit reads the value from the activations, not from fitting noise."
                        : "close to the real fit: the probe's R² is not clearly above what fitting noise gives."))
        }
        if r.testR2 < 0.1 { s.append("That is near the baseline: this value is not linearly decodable here.") }
        return s
    }

    /// Writes the report into `folder`; `names` gives a prompt's display name (for predictions.csv).
    public func write(to folder: inout ReportFolder, command: String, notes: [String] = [],
                      names: (Int) -> String = { String($0) }) throws {
        var summary = SummaryText(title: "Ridge probes: \(dataset) / \(target)")
        summary.field("model", model)
        summary.field("dataset", dataset)
        summary.field("target", target)
        summary.field("position", position.rawValue)
        summary.field("examples", examples)
        summary.field("probe", "ridge" + (standardized ? ", standardized" : ""))
        if let b = best {
            let r = b.result
            summary.field("best hook", b.hook)
            summary.field("test R²", r.testR2)
            summary.field("cv R²", "\(NumberFormat.string(r.cvR2Mean)) ± \(NumberFormat.string(r.cvR2Std))")
            summary.field("test MSE", r.testMSE)
            summary.field("baseline MSE (training mean)", r.baselineMSE)
            summary.field("control R² (shuffled values)", r.controlR2)
            summary.field("alpha", r.alpha)
        }
        summary.blankLine()
        for s in finding + notes { summary.sentence(s) }
        summary.blankLine()
        summary.field("command", command)
        try folder.writeSummary(summary)
        try folder.write(table, to: "layers.csv")

        let x = layers.enumerated().map { Double($0.element.layer ?? $0.offset) }
        let clip = { (v: Double) in v.isNaN ? v : max(v, -0.5) }
        var series = [SVGLineChart.Series(name: "test R²", values: layers.map { clip($0.result.testR2) }),
                      SVGLineChart.Series(name: "train R²", values: layers.map { clip($0.result.trainR2) })]
        if layers.contains(where: { !$0.result.cvR2Mean.isNaN }) {
            series.append(.init(name: "cv R² ± std", values: layers.map { clip($0.result.cvR2Mean) },
                                lower: layers.map { clip($0.result.cvR2Mean - $0.result.cvR2Std) },
                                upper: layers.map { clip($0.result.cvR2Mean + $0.result.cvR2Std) }))
        }
        if layers.contains(where: { !$0.result.controlR2.isNaN }) {
            series.append(.init(name: "shuffled control", values: layers.map { clip($0.result.controlR2) }))
        }
        let chart = SVGLineChart(title: "ridge probe R²: \(dataset) / \(target)", x: x, series: series,
                                 xAxisLabel: "layer", yAxisLabel: "R² (below -0.5 clipped)", yRange: -0.5...1)
        try folder.write(chart.svg(), to: "layers.svg")

        var page = HTMLPage(title: "Ridge probes: \(dataset) / \(target)", summary: summary.rendered(), command: command)
        page.append(.image(file: "layers.svg", caption: "R² per layer; the shuffled control shows what fitting noise reaches."))
        if let b = best {
            var predictions = CSVTable(header: ["prompt", "name", "actual", "predicted"])
            for (i, p) in b.result.testPrompts.enumerated() {
                predictions.append([.int(p), .string(names(p)), .double(b.result.testTargets[i]), .double(b.result.testPredictions[i])])
            }
            try folder.write(predictions, to: "predictions.csv")
            page.append(.link(file: "predictions.csv", text: "predictions.csv (held-out values and predictions at \(b.hook))"))
        }
        page.append(.link(file: "layers.csv", text: "layers.csv (per-layer R² and MSE)"))
        try folder.writeIndex(page)
    }
}
