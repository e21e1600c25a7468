import Foundation
import Reporting

extension ActivationPatching {
    /// Writes a many-pair patching run's report: `summary.txt`, `pairs.csv` (each pair's
    /// normalized logit difference per site, layer and position or head, or why it was
    /// skipped), `averages.csv` (per site, group and layer the mean over pairs with its 95%
    /// interval), `averages.svg` (the per-position sites' `changed` and `last` means) and
    /// `index.html`.
    public static func writePairsReport(_ pairs: [Pair], to folder: inout ReportFolder, model: String, pairsFile: String,
                                        config: Config, command: String) throws {
        let results = pairs.compactMap(\.result)
        let averages = Self.averages(results, sites: config.sites)
        var summary = SummaryText(title: "Activation patching over prompt pairs (\(config.direction.rawValue))")
        summary.field("model", model)
        summary.field("pairs file", pairsFile)
        summary.field("pairs", "\(results.count) of \(pairs.count) patched (\(pairs.count - results.count) skipped), "
                      + "\(results.filter(\.hasNormalizedScale).count) with a normalized scale")
        summary.field("sites", config.sites.map(\.rawValue).joined(separator: ", "))
        summary.blankLine()
        summary.sentence("Each cell is the normalized logit difference answer - wrong (0 = corrupted run, 1 = clean run). Averages are over the pairs whose clean and corrupted runs differ, per layer: for resid_pre, attn_out and mlp_out at the positions where the prompts differ (changed, the mean over those positions) and at the last position; for z per head. Intervals are Student t 95%.")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var csv = CSVTable(header: ["pair", "clean", "corrupt", "answer", "wrong", "site", "layer", "column", "normalized_logit_diff", "skipped"])
        for (i, p) in pairs.enumerated() {
            guard let r = p.result else {
                csv.append([.int(i), .string(p.clean), .string(p.corrupt), .string(p.answer), .string(p.wrong), .string(""), .string(""),
                            .string(""), .string(""), .string(p.skipped ?? "")])
                continue
            }
            for site in config.sites {
                guard let grid = r.normalizedGrid(site) else { continue }
                for (layer, row) in grid.enumerated() {
                    for (column, v) in row.enumerated() {
                        csv.append([.int(i), .string(p.clean), .string(p.corrupt), .string(p.answer), .string(p.wrong),
                                    .string(site.rawValue), .int(layer), .int(column), .double(v), .string("")])
                    }
                }
            }
        }
        try folder.write(csv, to: "pairs.csv")
        var table = CSVTable(header: ["site", "group", "layer", "mean", "ci_low", "ci_high", "pairs"])
        var series: [SVGLineChart.Series] = []
        for site in config.sites {
            guard let bySite = averages[site] else { continue }
            for name in groupNames(bySite, site: site) {
                let a = bySite[name]!
                for l in a.mean.indices {
                    table.append([.string(site.rawValue), .string(name), .int(l), .double(a.mean[l]), .double(a.lower[l]), .double(a.upper[l]), .int(a.pairs)])
                }
                if !site.isPerHead { series.append(.init(name: "\(site.rawValue) \(name)", values: a.mean, lower: a.lower, upper: a.upper)) }
            }
        }
        try folder.write(table, to: "averages.csv")
        var page = HTMLPage(title: "Activation patching over prompt pairs", summary: summary.rendered(), command: command)
        if !series.isEmpty {
            let chart = SVGLineChart(title: "Patching over \(results.count) pairs (\(config.direction.rawValue))",
                                     x: (0..<series[0].values.count).map(Double.init), series: series, xAxisLabel: "layer",
                                     yAxisLabel: "mean normalized logit difference")
            try folder.write(chart.svg(), to: "averages.svg")
            page.append(.image(file: "averages.svg", caption: "Mean normalized logit difference per layer when one site is patched, at the positions where the prompts differ and at the last position; bands are 95% intervals over pairs."))
        }
        page.append(.link(file: "averages.csv", text: "averages.csv"))
        page.append(.link(file: "pairs.csv", text: "pairs.csv (per pair)"))
        try folder.writeIndex(page)
    }
}
