import Foundation
import Reporting

/// The results of one probe per hook point, and the report folder made from them:
/// `layers.csv`, `layers.svg` (accuracy by layer with the control curve), `confusion.csv` and
/// `confusion.svg` at the best layer, `summary.txt` with the finding in a sentence, a saved
/// probe per hook (`probe-<hook>.json`, plus `best-probe.json`) and `index.html`.
public struct ProbeReport: Sendable {
    /// One hook point's experiment.
    public struct Layer: Sendable {
        public var hook: String
        /// The block index, when the hook is in a block.
        public var layer: Int?
        public var result: ProbeExperiment.Result

        public init(hook: String, layer: Int?, result: ProbeExperiment.Result) {
            self.hook = hook
            self.layer = layer
            self.result = result
        }
    }

    public var model: String
    public var modelHash: String
    public var dataset: String
    public var label: String
    public var position: ReadPosition
    public var options: ProbeOptions
    public var layers: [Layer]
    public var classes: [String]
    public var examples: Int

    public init(model: String, modelHash: String, dataset: String, label: String, position: ReadPosition,
                options: ProbeOptions, layers: [Layer], classes: [String], examples: Int) {
        self.model = model
        self.modelHash = modelHash
        self.dataset = dataset
        self.label = label
        self.position = position
        self.options = options
        self.layers = layers
        self.classes = classes
        self.examples = examples
    }

    /// The layer chosen as best: highest cross-validated accuracy (test accuracy when there
    /// were no folds), so the test split is not used to choose; ties go to the earlier layer.
    public var best: Layer? {
        layers.enumerated().max { a, b in
            let (x, y) = (a.element.result, b.element.result)
            let kx = x.cvMean.isNaN ? x.testAccuracy : x.cvMean, ky = y.cvMean.isNaN ? y.testAccuracy : y.cvMean
            return kx < ky || (kx == ky && a.offset > b.offset)
        }?.element
    }

    /// The per-layer table.
    public var table: CSVTable {
        var t = CSVTable(header: ["hook", "layer", "train_accuracy", "test_accuracy", "cv_mean", "cv_std",
                                  "control_accuracy", "selectivity", "majority_baseline", "regularization",
                                  "train_rows", "test_rows", "outliers", "iterations", "converged"])
        for l in layers {
            let r = l.result
            t.append([.string(l.hook), l.layer.map { .int($0) } ?? .string(""), .double(r.trainAccuracy),
                      .double(r.testAccuracy), .double(r.cvMean), .double(r.cvStd), .double(r.controlAccuracy),
                      .double(r.selectivity), .double(r.majorityBaseline), .double(r.regularization),
                      .int(r.trainRows), .int(r.testRows), .int(r.outlierPrompts.count), .int(r.iterations),
                      .string(r.converged ? "yes" : "no")])
        }
        return t
    }

    /// The finding as plain sentences.
    public var finding: [String] {
        guard let b = best else { return ["No hook point was probed."] }
        let r = b.result
        let pct = { (x: Double) in "\(Int((x * 100).rounded()))%" }
        var s = ["'\(label)' (\(classes.count) classes: \(classes.joined(separator: ", "))) is decoded best at \(b.hook): "
                 + "\(pct(r.testAccuracy)) test accuracy (cross-validated \(pct(r.cvMean.isNaN ? r.testAccuracy : r.cvMean))) "
                 + "against a majority baseline of \(pct(r.majorityBaseline))."]
        let first = layers.first { $0.result.testAccuracy >= r.testAccuracy - 0.02 }
        if let first, first.hook != b.hook {
            s.append("It is within 2 points of that already at \(first.hook).")
        }
        if !r.controlAccuracy.isNaN {
            let reading = r.selectivity >= 0.1 ? "so most of the accuracy is not explained by memorizing word identity"
                : r.selectivity > 0.02 ? "so part of the accuracy may come from memorizing word identity"
                : "so the probe does as well on random labels tied to words: its accuracy may come from memorizing words, not from a representation of '\(label)'"
            s.append("On the control task (random labels per word type) the same probe gets \(pct(r.controlAccuracy)): "
                     + "selectivity \(NumberFormat.fixed(r.selectivity, decimals: 2)), \(reading).")
        }
        if let worst = layers.min(by: { $0.result.testAccuracy < $1.result.testAccuracy }),
           worst.result.testAccuracy < worst.result.majorityBaseline - 0.1 {
            s.append("At \(worst.hook) test accuracy is \(pct(worst.result.testAccuracy)), well below the baseline: the probe "
                     + "generalizes the wrong way, as it does when it memorizes word identity and the held-out example's "
                     + "partner in training (same word, other label) carries the opposite label.")
        }
        if r.testAccuracy < r.majorityBaseline + 0.05 {
            s.append("That is close to the baseline: this label is not linearly decodable here.")
        }
        return s
    }

    /// What selectivity means, for the summary.
    public static let selectivityNote = """
        Selectivity (Hewitt & Liang 2019) is task accuracy minus control accuracy, where the \
        control task gives every word type (the word the label hinges on) a random label and \
        the same probe is fitted. High selectivity: the probe reads something the \
        representation encodes about the label. Low or negative: a probe this expressive reaches \
        the same accuracy on labels that only word identity predicts, so high task accuracy \
        alone does not show the property is represented. When each word type occurs once, \
        control labels cannot be memorized across the split and control accuracy sits at chance.
        """

    /// Writes the report into `folder`; `probeFile` makes each hook's saved probe.
    public func write(to folder: inout ReportFolder, command: String, notes: [String] = [],
                      probeFile: (Layer) -> ProbeFile) throws {
        var summary = SummaryText(title: "Linear probes: \(dataset) / \(label)")
        summary.field("model", model)
        summary.field("dataset", dataset)
        summary.field("label", "\(label) (\(classes.joined(separator: ", ")))")
        summary.field("position", position.rawValue)
        summary.field("examples", examples)
        summary.field("probe", options.kind.rawValue + (options.standardize ? ", standardized" : ""))
        if let b = best {
            summary.field("best hook", b.hook)
            summary.field("test accuracy", b.result.testAccuracy)
            summary.field("cv accuracy", "\(NumberFormat.string(b.result.cvMean)) ± \(NumberFormat.string(b.result.cvStd))")
            summary.field("control accuracy", b.result.controlAccuracy)
            summary.field("selectivity", b.result.selectivity)
            summary.field("majority baseline", b.result.majorityBaseline)
            summary.field("regularization", b.result.regularization)
            let outliers = Set(layers.flatMap(\.result.outlierPrompts))
            summary.field("outliers left out", outliers.isEmpty ? "none" : "\(outliers.count) prompt(s) at some hook (norm > 10x median): " + outliers.sorted().prefix(10).map(String.init).joined(separator: ", "))
        }
        summary.blankLine()
        for s in finding { summary.sentence(s) }
        for n in notes { summary.sentence(n) }
        summary.blankLine()
        summary.sentence(ProbeReport.selectivityNote)
        summary.blankLine()
        summary.field("command", command)
        try folder.writeSummary(summary)
        try folder.write(table, to: "layers.csv")

        let x = layers.enumerated().map { Double($0.element.layer ?? $0.offset) }
        var series = [SVGLineChart.Series(name: "test", values: layers.map(\.result.testAccuracy)),
                      SVGLineChart.Series(name: "train", values: layers.map(\.result.trainAccuracy))]
        if layers.contains(where: { !$0.result.cvMean.isNaN }) {
            series.append(.init(name: "cv mean ± std", values: layers.map(\.result.cvMean),
                                lower: layers.map { $0.result.cvMean - $0.result.cvStd },
                                upper: layers.map { $0.result.cvMean + $0.result.cvStd }))
        }
        if layers.contains(where: { !$0.result.controlAccuracy.isNaN }) {
            series.append(.init(name: "control task", values: layers.map(\.result.controlAccuracy)))
        }
        series.append(.init(name: "majority baseline", values: layers.map(\.result.majorityBaseline)))
        let chart = SVGLineChart(title: "\(options.kind.rawValue) probe accuracy: \(dataset) / \(label)", x: x, series: series,
                                 xAxisLabel: "layer", yAxisLabel: "accuracy", yRange: 0...1)
        try folder.write(chart.svg(), to: "layers.svg")

        var page = HTMLPage(title: "Linear probes: \(dataset) / \(label)", summary: summary.rendered(), command: command)
        page.append(.image(file: "layers.svg", caption: "Accuracy per layer; the control task's curve shows what memorizing word identity reaches."))
        if let b = best {
            var confusion = CSVTable(header: ["true"] + classes)
            for (i, row) in b.result.confusion.enumerated() { confusion.append([.string(classes[i])] + row.map { .int($0) }) }
            try folder.write(confusion, to: "confusion.csv")
            let heat = SVGHeatmap(title: "Test confusion at \(b.hook)", values: b.result.confusion.map { $0.map(Double.init) },
                                  rowLabels: classes, columnLabels: classes, xAxisLabel: "predicted", yAxisLabel: "true",
                                  colorBarLabel: "examples", ramp: .purples)
            var h = heat
            h.rowLabelsAreTokens = false
            h.showsValues = true
            try folder.write(h.svg(), to: "confusion.svg")
            page.append(.image(file: "confusion.svg", caption: "Test-split confusion counts at the best hook."))
            try folder.write(probeFile(b).encoded(), to: "best-probe.json")
            page.append(.link(file: "best-probe.json", text: "best-probe.json (the probe at \(b.hook))"))
        }
        for l in layers { try folder.write(probeFile(l).encoded(), to: "probe-\(l.hook).json") }
        page.append(.link(file: "layers.csv", text: "layers.csv (per-layer accuracies)"))
        try folder.writeIndex(page)
    }
}
