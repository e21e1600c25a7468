import Foundation
import Reporting

extension SNMFConceptComparison.Result {
    /// Per method, the mean over concepts of a value (NaNs left out).
    public func mean(_ method: SNMFConceptComparison.Method, _ value: (SNMFConceptComparison.Row) -> Double) -> Double {
        let v = rows.filter { $0.method == method }.map(value).filter(\.isFinite)
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }

    /// The methods compared, in ``SNMFConceptComparison/Method`` order (sae only with an SAE).
    public var methods: [SNMFConceptComparison.Method] {
        SNMFConceptComparison.Method.allCases.filter { m in rows.contains { $0.method == m } }
    }

    /// The text table: per concept and method, test AUC, the chosen feature and its purity,
    /// and the concept words' probability raise per unit KL at each target; then the means.
    public var table: String {
        func f(_ x: Double?) -> String { x.map { $0.isFinite ? String(format: "%.3f", $0) : "n/a" } ?? "" }
        var lines = [["concept", "method", "test AUC", "feature", "purity"] + targets.map { "raise/KL@\(NumberFormat.string($0))" }]
        for r in rows {
            lines.append([r.concept, r.method.rawValue, f(r.testAUC), r.feature.map(String.init) ?? "", f(r.purity)]
                         + r.curve.map { f($0.raisePerKL) })
        }
        for m in methods {
            lines.append(["mean", m.rawValue, f(mean(m, \.testAUC)), "", [.snmf, .sae].contains(m) ? f(mean(m) { $0.purity ?? .nan }) : ""]
                         + targets.indices.map { i in f(mean(m) { $0.curve[i].raisePerKL }) })
        }
        let widths = lines[0].indices.map { c in lines.map { $0[c].count }.max()! }
        return lines.map { row in row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
            .joined(separator: "\n") + "\n"
    }

    /// Writes `concepts.csv` (a row per concept, method and target KL), `concepts.txt` (the
    /// table and how it was measured), `concepts-steering.svg` (mean concept-word probability
    /// raise over concepts against the target KL, a line per method) and `concepts.json`.
    public func writeReport(to folder: inout ReportFolder, command: String) throws {
        var csv = CSVTable(header: ["concept", "method", "feature", "train_auc", "test_auc", "purity", "base_probability",
                                    "target_kl", "kl", "scale", "concept_probability", "raise", "raise_per_kl"])
        for r in rows {
            for p in r.curve {
                csv.append([.string(r.concept), .string(r.method.rawValue), r.feature.map { CSVCell.int($0) } ?? CSVCell.string(""),
                            .double(r.trainAUC), .double(r.testAUC), r.purity.map { CSVCell.double($0) } ?? CSVCell.string(""),
                            .double(r.baseProbability), .double(p.targetKL), .double(p.kl), .double(p.scale),
                            .double(p.conceptProbability), .double(p.raise), .double(p.raisePerKL)])
            }
        }
        try folder.write(csv, to: "concepts.csv")
        var text = "Concept detection and steering at \(hook): SNMF features, difference of means, logistic probe"
        text += (methods.contains(.sae) ? ", SAE latents" : "") + "\n\n"
        text += table
        text += """

            Detection: ROC AUC of one score per sentence, a concept's sentences against all others, \
            on the odd-numbered half (methods chosen/fitted on the even half). snmf: the feature's \
            code (Z fixed), max over the sentence's tokens; sae (when given): the latent's \
            activation, max over the sentence's tokens; diff-means and probe: the sentence's \
            mean row (positions 1...). Purity: share of the chosen feature's (or latent's) top tokens that sit \
            in the concept's sentences (mean over all features, by their most common label: \
            \(NumberFormat.string(meanPurity))).
            Steering: unit direction (an SAE latent's: its decoder row) at every position, scale bisected to each target KL (mean \
            next-token KL on neutral sentences); raise = summed probability of the concept's \
            words after \(prompts.map { "\"\($0)\"" }.joined(separator: ", ")) minus unsteered, per nat of KL reached.
            command: \(command)

            """
        try folder.write(text, to: "concepts.txt")
        let chart = SVGLineChart(title: "Concept-word probability raise at matched KL (mean over concepts)", x: targets,
                                 series: methods.map { m in
                                     .init(name: m.rawValue, values: targets.indices.map { i in mean(m) { $0.curve[i].raise } })
                                 }, xAxisLabel: "KL (nats) on neutral text", yAxisLabel: "p(concept words) raise")
        try folder.write(chart.svg(), to: "concepts-steering.svg")
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try folder.write(try e.encode(self), to: "concepts.json")
    }
}
