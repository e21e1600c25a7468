import Foundation
import Reporting

extension CausalTracing {
    /// Writes a many-fact report into `folder`: `summary.txt`, `roles.csv` (kind, role, layer,
    /// mean indirect effect, 95% interval, facts), `facts.csv` (each fact's probabilities or
    /// why it was skipped), `roles-<kind>.svg` (average indirect effect per layer, one line per
    /// role with its interval, as in ROME's figure 2) and `index.html`.
    public static func writeFactsReport(_ facts: [Fact], to folder: inout ReportFolder, model: String, factsFile: String,
                                        config: Config, noiseStd: Float?, command: String) throws {
        let results = facts.compactMap(\.result)
        let averages = roleAverages(results)
        var summary = SummaryText(title: "Causal tracing over \(results.count) facts (Meng et al. 2022)")
        summary.field("model", model)
        summary.field("facts file", factsFile)
        summary.field("facts traced", "\(results.count) of \(facts.count)")
        summary.field("samples", config.samples)
        summary.field("noise std", noiseStd.map { Double($0) } ?? .nan)
        summary.field("window", config.window)
        summary.field("seed", Int(config.seed))
        if !results.isEmpty {
            summary.field("mean clean p", results.map(\.cleanProbability).reduce(0, +) / Double(results.count))
            summary.field("mean corrupted p", results.map(\.corruptedProbability).reduce(0, +) / Double(results.count))
        }
        var sentences: [String] = []
        for kind in config.kinds {
            guard let curves = averages[kind] else { continue }
            for role in [TokenRole.lastSubject, .last] {
                guard let curve = curves[role], let peak = curve.mean.enumerated().max(by: { $0.element < $1.element }) else { continue }
                summary.field("peak \(kind.rawValue), \(role.rawValue)",
                              "layer \(peak.offset): AIE \(NumberFormat.string(peak.element)) [\(NumberFormat.string(curve.lower[peak.offset])), \(NumberFormat.string(curve.upper[peak.offset]))]")
            }
            if let subjectCurve = curves[.lastSubject], let lastCurve = curves[.last],
               let s = subjectCurve.mean.enumerated().max(by: { $0.element < $1.element }),
               let l = lastCurve.mean.enumerated().max(by: { $0.element < $1.element }) {
                let what = kind == .state ? "the residual stream" : kind == .mlp ? "MLP outputs" : "attention outputs"
                sentences.append("Restoring \(what) has its largest average effect at the last subject token around layer \(s.offset) (\(NumberFormat.string(s.element))) and at the last token around layer \(l.offset) (\(NumberFormat.string(l.element))).")
            }
        }
        summary.blankLine()
        for s in sentences { summary.sentence(s) }
        summary.sentence("AIE: average indirect effect, restored minus corrupted probability of the answer, averaged over a role's tokens within a fact and then over facts; brackets hold a 95% confidence interval over facts (Student's t).")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var roles = CSVTable(header: ["kind", "role", "layer", "mean", "ci_low", "ci_high", "facts"])
        var page = HTMLPage(title: "Causal tracing over \(results.count) facts", summary: summary.rendered(), command: command)
        for kind in config.kinds {
            guard let curves = averages[kind] else { continue }
            var series: [SVGLineChart.Series] = []
            for role in TokenRole.allCases {
                guard let c = curves[role] else { continue }
                for l in c.mean.indices {
                    roles.append([.string(kind.rawValue), .string(role.rawValue), .int(l), .double(c.mean[l]),
                                  .double(c.lower[l]), .double(c.upper[l]), .int(c.facts)])
                }
                series.append(.init(name: "\(role.rawValue) (\(c.facts))", values: c.mean, lower: c.lower, upper: c.upper))
            }
            let what = kind == .state ? "residual stream" : kind == .mlp ? "MLP (window \(config.window))" : "attention (window \(config.window))"
            let chart = SVGLineChart(title: "Average indirect effect, restoring the \(what)",
                                     x: (0..<(series.first?.values.count ?? 0)).map(Double.init), series: series,
                                     xAxisLabel: "layer", yAxisLabel: "AIE on p(answer)")
            try folder.write(chart.svg(), to: "roles-\(kind.rawValue).svg")
            page.append(.image(file: "roles-\(kind.rawValue).svg", caption: "Mean over facts with a 95% interval; the number of facts with each role is in the legend."))
        }
        try folder.write(roles, to: "roles.csv")
        var table = CSVTable(header: ["fact", "prompt", "subject", "answer", "target", "clean_p", "corrupted_p", "status"])
        for (i, f) in facts.enumerated() {
            table.append([.int(i), .string(f.prompt), .string(f.subject), .string(f.answer ?? ""),
                          .string(f.result.map { String($0.target) } ?? ""),
                          f.result.map { .double($0.cleanProbability) } ?? .string(""),
                          f.result.map { .double($0.corruptedProbability) } ?? .string(""),
                          .string(f.skipped.map { "skipped: \($0)" } ?? "traced")])
        }
        try folder.write(table, to: "facts.csv")
        page.append(.link(file: "roles.csv", text: "roles.csv (average indirect effect per kind, role and layer)"))
        page.append(.link(file: "facts.csv", text: "facts.csv (each fact)"))
        try folder.writeIndex(page)
    }
}
