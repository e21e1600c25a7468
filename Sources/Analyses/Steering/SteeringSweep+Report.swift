import Foundation
import Reporting

extension SteeringSweep.Result {
    /// Writes `summary.txt`, `sweep.csv` (one row per layer and strength), `effect.svg`
    /// (change in p(concept) per layer, one line per strength), `fluency.svg` (KL on
    /// neutral text per layer), `tradeoff.svg` (effect against KL, one point per cell) and
    /// `index.html`.
    public func writeReport(to folder: inout ReportFolder, model: String, maxKL: Double, command: String) throws {
        var summary = SummaryText(title: "Steering sweep (\(method))")
        summary.field("model", model)
        summary.field("pairs", pairs)
        summary.field("position rule", positionRule)
        summary.field("concept tokens", conceptTokens.map { TokenLabel.display($0) }.joined(separator: " "))
        summary.field("p(concept), unsteered", baselineConceptProbability)
        if let r = readout, let b = baselineReadoutScore { summary.field("\(r), unsteered", b) }
        summary.field("layers", layers.map(String.init).joined(separator: ","))
        summary.field("strengths", strengths.joined(separator: ", "))
        if let b = best(maxKL: maxKL) {
            summary.field("best (KL <= \(NumberFormat.string(maxKL)))", "layer \(b.layer), \(b.strength): p(concept) \(NumberFormat.string(b.conceptProbability)) (\(b.effect >= 0 ? "+" : "")\(NumberFormat.string(b.effect))), KL \(NumberFormat.string(b.klNeutral)) nats")
        } else {
            summary.field("best (KL <= \(NumberFormat.string(maxKL)))", "none: every cell costs more")
        }
        summary.blankLine()
        if let r = readout {
            summary.sentence("\(r): the probe's mean probability at the last position of each held-out prompt, read at its hook with the steering active (sweep.csv: p_probe, probe_effect).")
        }
        summary.sentence("Effect: summed next-token probability of the concept tokens at the end of each held-out prompt, steered minus unsteered. Fluency cost: mean KL(unsteered || steered) over the neutral text's positions 1... Strengths are multiples of the hook's typical row norm (position 0 left out).")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var csv = CSVTable(header: ["layer", "strength", "norm_multiple", "scale", "direction_norm", "typical_norm", "p_concept", "effect", "p_probe", "probe_effect", "kl_neutral"])
        for c in cells {
            let i = layers.firstIndex(of: c.layer)!
            csv.append([.int(c.layer), .string(c.strength), .double(c.normMultiple), .double(c.scale), .double(directionNorms[i]),
                        .double(typicalNorms[i]), .double(c.conceptProbability), .double(c.effect),
                        c.readoutScore.map { .double($0) } ?? .string(""), c.readoutEffect.map { .double($0) } ?? .string(""),
                        .double(c.klNeutral)])
        }
        try folder.write(csv, to: "sweep.csv")
        let x = layers.map(Double.init)
        func series(_ value: (SteeringSweep.Cell) -> Double) -> [SVGLineChart.Series] {
            strengths.map { s in SVGLineChart.Series(name: s, values: layers.map { l in cells.first { $0.layer == l && $0.strength == s }.map(value) ?? .nan }) }
        }
        let effect = SVGLineChart(title: "Effect: change in p(concept)", x: x, series: series(\.effect), yAxisLabel: "delta p(concept)")
        let fluency = SVGLineChart(title: "Fluency cost: KL on neutral text", x: x, series: series(\.klNeutral), yAxisLabel: "KL (nats)")
        try folder.write(effect.svg(), to: "effect.svg")
        try folder.write(fluency.svg(), to: "fluency.svg")
        try folder.write(tradeoffChart().svg(), to: "tradeoff.svg")
        var page = HTMLPage(title: "Steering sweep", summary: summary.rendered(), command: command)
        page.append(.image(file: "effect.svg", caption: "Change in the concept tokens' probability per layer and strength."))
        page.append(.image(file: "fluency.svg", caption: "KL divergence from the unsteered model on neutral text."))
        page.append(.image(file: "tradeoff.svg", caption: "Effect against fluency cost: one point per (layer, strength); upper left is best. Layers are in sweep.csv."))
        page.append(.link(file: "sweep.csv", text: "sweep.csv"))
        try folder.writeIndex(page)
    }

    /// Effect against KL as a scatter: each cell is its own x, followed by a gap (an x where
    /// every series is NaN) so the line chart draws points without joining them.
    func tradeoffChart() -> SVGLineChart {
        var x: [Double] = []
        var values = [String: [Double]]()
        for s in strengths { values[s] = [] }
        for c in cells.sorted(by: { $0.klNeutral < $1.klNeutral }) {
            for gap in [false, true] {
                x.append(c.klNeutral)
                for s in strengths { values[s]!.append(!gap && c.strength == s ? c.effect : .nan) }
            }
        }
        return SVGLineChart(title: "Effect vs fluency cost", x: x,
                            series: strengths.map { SVGLineChart.Series(name: $0, values: values[$0]!) },
                            xAxisLabel: "KL on neutral text (nats)", yAxisLabel: "delta p(concept)")
    }
}
