import Foundation
import Reporting

extension AttentionKnockout {
    /// Writes a many-fact knockout's report: `summary.txt`, `facts.csv` (each fact's relative
    /// change per block and layer, or why it was skipped), `averages.csv` (per block and layer
    /// the mean change with its 95% interval and the facts averaged), `averages.svg` (the
    /// means with their intervals, one line per block) and `index.html`.
    public static func writeFactsReport(_ facts: [Fact], to folder: inout ReportFolder, model: String, factsFile: String,
                                        config: Config, command: String) throws {
        let results = facts.compactMap(\.result)
        let averages = Self.averages(results)
        var summary = SummaryText(title: "Attention knockout over facts (Geva et al. 2023)")
        summary.field("model", model)
        summary.field("facts file", factsFile)
        summary.field("facts", "\(results.count) of \(facts.count) knocked out (\(facts.count - results.count) skipped)")
        summary.field("window", config.window)
        summary.field("edges to position 0", config.blockFirst ? "blocked too (--block-first)" : "kept (attention sink)")
        for block in config.blocks {
            guard let a = averages[block], let l = a.mean.indices.filter({ a.mean[$0].isFinite }).min(by: { a.mean[$0] < a.mean[$1] }) else { continue }
            summary.field("largest mean drop, \(block.rawValue) -> last",
                          "layer \(l): \(NumberFormat.string(a.mean[l]))% (95% CI \(NumberFormat.string(a.lower[l])) to \(NumberFormat.string(a.upper[l])))")
        }
        summary.blankLine()
        summary.sentence("Each fact's change is 100 x (p - clean p) / clean p of its target (the answer when the file gives one and it is the model's top-1, else the clean top-1); the averages are over the facts knocked out, with Student t 95% intervals.")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var csv = CSVTable(header: ["fact", "prompt", "subject", "target", "clean_p", "block", "layer", "p", "relative_change_percent", "skipped"])
        for (i, f) in facts.enumerated() {
            guard let r = f.result else {
                csv.append([.int(i), .string(f.prompt), .string(f.subject), .string(""), .string(""), .string(""), .string(""),
                            .string(""), .string(""), .string(f.skipped ?? "")])
                continue
            }
            for block in config.blocks {
                guard let p = r.probabilities[block], let change = r.relativeChange(block) else { continue }
                for layer in p.indices {
                    csv.append([.int(i), .string(f.prompt), .string(f.subject), .int(r.target), .double(r.cleanProbability),
                                .string(block.rawValue), .int(layer), .double(p[layer]), .double(change[layer]), .string("")])
                }
            }
        }
        try folder.write(csv, to: "facts.csv")
        var table = CSVTable(header: ["block", "layer", "mean_change_percent", "ci_low", "ci_high", "facts"])
        var series: [SVGLineChart.Series] = []
        for block in config.blocks {
            guard let a = averages[block] else { continue }
            for l in a.mean.indices {
                table.append([.string(block.rawValue), .int(l), .double(a.mean[l]), .double(a.lower[l]), .double(a.upper[l]), .int(a.facts)])
            }
            series.append(.init(name: "\(block.rawValue) -> last", values: a.mean, lower: a.lower, upper: a.upper))
        }
        try folder.write(table, to: "averages.csv")
        let chart = SVGLineChart(title: "Attention knockout over \(results.count) facts", x: (0..<(series.first?.values.count ?? 0)).map(Double.init),
                                 series: series, xAxisLabel: "layer (centre of a \(config.window)-layer window)",
                                 yAxisLabel: "mean % change in p(target)")
        try folder.write(chart.svg(), to: "averages.svg")
        var page = HTMLPage(title: "Attention knockout over facts", summary: summary.rendered(), command: command)
        page.append(.image(file: "averages.svg", caption: "Mean relative change in each fact's target probability when the last position cannot attend to the given positions in the window of layers around each layer; bands are 95% intervals over facts."))
        page.append(.link(file: "averages.csv", text: "averages.csv"))
        page.append(.link(file: "facts.csv", text: "facts.csv (per fact)"))
        try folder.writeIndex(page)
    }
}
