import Foundation
import Reporting

extension AttentionKnockout.Result {
    /// The layer where blocking `block` lowers the target's probability most, and the change in percent.
    public func strongestDrop(_ block: AttentionKnockout.Block) -> (layer: Int, change: Double)? {
        guard let changes = relativeChange(block) else { return nil }
        return changes.enumerated().filter { $0.element.isFinite }.min { $0.element < $1.element }
            .map { (layer: $0.offset, change: $0.element) }
    }

    /// Writes `summary.txt`, `knockout.csv` (block, layer, p, relative change), `knockout.svg`
    /// (relative change per layer, one line per block, as in Geva et al.'s figure 2) and
    /// `index.html` into `folder`.
    public func writeReport(to folder: inout ReportFolder, model: String, prompt: String, subjectText: String,
                            tokens: [String], targetToken: String, command: String) throws {
        var summary = SummaryText(title: "Attention knockout (Geva et al. 2023)")
        summary.field("model", model)
        summary.field("prompt", prompt)
        summary.field("tokens", tokens.enumerated().map { "\($0.offset):\(TokenLabel.display($0.element))" }.joined(separator: " "))
        summary.field("subject", "\(subjectText) (tokens \(subject.lowerBound)..<\(subject.upperBound))")
        summary.field("target", "\(TokenLabel.display(targetToken)) (id \(target))")
        summary.field("window", config.window)
        summary.field("edges to position 0", config.blockFirst ? "blocked too (--block-first)" : "kept (attention sink)")
        summary.field("clean p", cleanProbability)
        var sentences: [String] = []
        for block in config.blocks {
            guard let drop = strongestDrop(block) else { continue }
            summary.field("largest drop, \(block.rawValue) -> last", "layer \(drop.layer): \(NumberFormat.string(drop.change))%")
            let edges = block == .last ? "the last position to itself" : "the \(block == .subject ? "subject" : "non-subject") positions to the last"
            sentences.append(drop.change < -20
                ? "Blocking attention from \(edges) around layer \(drop.layer) lowers p(\(TokenLabel.display(targetToken))) by \(Int((-drop.change).rounded()))%."
                : "Blocking attention from \(edges) never lowers p(\(TokenLabel.display(targetToken))) by more than \(Int((-drop.change).rounded()))%.")
        }
        summary.blankLine()
        for s in sentences { summary.sentence(s) }
        summary.field("command", command)
        try folder.writeSummary(summary)

        var csv = CSVTable(header: ["block", "layer", "window", "p", "relative_change_percent"])
        var series: [SVGLineChart.Series] = []
        for block in config.blocks {
            guard let p = probabilities[block], let change = relativeChange(block) else { continue }
            for layer in p.indices {
                let w = windows[layer]
                csv.append([.string(block.rawValue), .int(layer), .string("\(w.lowerBound)-\(w.upperBound - 1)"),
                            .double(p[layer]), .double(change[layer])])
            }
            series.append(.init(name: "\(block.rawValue) -> last", values: change))
        }
        try folder.write(csv, to: "knockout.csv")
        let chart = SVGLineChart(title: "Attention knockout: \(prompt)", x: (0..<(series.first?.values.count ?? 0)).map(Double.init),
                                 series: series, xAxisLabel: "layer (centre of a \(config.window)-layer window)",
                                 yAxisLabel: "% change in p(\(TokenLabel.display(targetToken)))")
        try folder.write(chart.svg(), to: "knockout.svg")
        var page = HTMLPage(title: "Attention knockout: \(prompt)", summary: summary.rendered(), command: command)
        page.append(.image(file: "knockout.svg", caption: "Relative change in the target's probability when the last position cannot attend to the given positions in the window of layers around each layer."))
        page.append(.link(file: "knockout.csv", text: "knockout.csv"))
        try folder.writeIndex(page)
    }
}
