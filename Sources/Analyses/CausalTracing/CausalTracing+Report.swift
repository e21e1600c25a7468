import Foundation
import Reporting

extension CausalTracing.Result {
    /// The cell of `kind` whose restoration recovered the most probability.
    public func peak(_ kind: CausalTracing.Kind) -> (layer: Int, position: Int, probability: Double)? {
        guard let grid = grids[kind] else { return nil }
        var best: (Int, Int, Double)? = nil
        for (l, row) in grid.enumerated() {
            for (t, p) in row.enumerated() where best == nil || p > best!.2 { best = (l, t, p) }
        }
        return best.map { (layer: $0.0, position: $0.1, probability: $0.2) }
    }

    /// Share of the clean-minus-corrupted gap that restoring a cell recovers.
    public func recovered(_ p: Double) -> Double {
        let gap = cleanProbability - corruptedProbability
        return gap > 0 ? (p - corruptedProbability) / gap : 0
    }

    /// Writes `summary.txt`, one long-form CSV per kind, `trace.svg` (the heatmaps side by
    /// side, as in ROME's figure 1) and `index.html` into `folder`.
    ///
    /// - Parameters:
    ///   - tokens: display strings of the prompt's tokens; `targetToken` the target's.
    ///   - command: the command line that made the report.
    public func writeReport(to folder: inout ReportFolder, model: String, prompt: String, subjectText: String,
                            tokens: [String], targetToken: String, command: String) throws {
        var summary = SummaryText(title: "Causal trace (Meng et al. 2022)")
        summary.field("model", model)
        summary.field("prompt", prompt)
        summary.field("tokens", tokens.enumerated().map { "\($0.offset):\(TokenLabel.display($0.element))" }.joined(separator: " "))
        summary.field("subject", "\(subjectText) (tokens \(subject.lowerBound)..<\(subject.upperBound))")
        summary.field("target", "\(TokenLabel.display(targetToken)) (id \(target))")
        summary.field("samples", config.samples)
        summary.field("noise std", noiseStd.map { Double($0) } ?? .nan)
        summary.field("window", config.window)
        summary.field("seed", Int(config.seed))
        summary.field("clean p", cleanProbability)
        summary.field("corrupted p", corruptedProbability)
        summary.field("indirect effect", "per cell in the CSVs and JSON: restored p minus corrupted p")
        var sentences: [String] = []
        for kind in config.kinds {
            guard let peak = peak(kind) else { continue }
            let where_ = "layer \(peak.layer), token \(peak.position) \(TokenLabel.display(tokens[peak.position]))"
            summary.field("peak \(kind.rawValue)", "\(where_): p = \(NumberFormat.string(peak.probability)), recovers \(Int((recovered(peak.probability) * 100).rounded()))% of the gap")
            let role = subject.contains(peak.position) ? (peak.position == subject.upperBound - 1 ? "the subject's last token" : "a subject token")
                : (peak.position == tokens.count - 1 ? "the last token" : "a token after the subject")
            sentences.append("Restoring the \(kind.rawValue == "state" ? "residual stream" : kind.rawValue + " output") at \(role) around layer \(peak.layer) recovers \(Int((recovered(peak.probability) * 100).rounded()))% of the probability the noise removed.")
        }
        summary.field("row-layers computed", rowLayersComputed)
        summary.field("row-layers, naive loop", rowLayersNaive)
        summary.blankLine()
        for s in sentences { summary.sentence(s) }
        summary.field("command", command)
        try folder.writeSummary(summary)

        var heatmaps: [SVGHeatmap] = []
        let top = max(cleanProbability, grids.values.joined().joined().max() ?? cleanProbability)
        for kind in config.kinds {
            guard let grid = grids[kind] else { continue }
            // Long form plus each cell's indirect effect (restored minus corrupted p).
            var csv = CSVTable(header: CSVTable.longFormHeader + ["indirect_effect"])
            for (t, token) in tokens.enumerated() {
                for (l, row) in grid.enumerated() {
                    csv.append([.string(kind.rawValue), .int(l), .int(t), .string(token), .double(row[t]),
                                .double(row[t] - corruptedProbability)])
                }
            }
            try folder.write(csv, to: "\(kind.rawValue).csv")
            let ramp: ColorRamp = kind == .state ? .purples : kind == .mlp ? .greens : .reds
            heatmaps.append(SVGHeatmap(
                title: kind == .state ? "Restore residual stream" : kind == .mlp ? "Restore MLP (window \(config.window))"
                    : "Restore attention (window \(config.window))",
                values: transpose(grid), rowLabels: tokens, xAxisLabel: "layer",
                colorBarLabel: "p(\(TokenLabel.display(targetToken)))", ramp: ramp,
                highlightedRows: Set(subject), valueRange: min(corruptedProbability, top)...top))
        }
        let figure = SVGFigure.sideBySide(heatmaps, title: "p(\(TokenLabel.display(targetToken))) with one clean activation restored: \(prompt)")
        try folder.write(figure, to: "trace.svg")
        var page = HTMLPage(title: "Causal trace: \(prompt)", summary: summary.rendered(), command: command)
        page.append(.image(file: "trace.svg", caption: "Subject tokens are marked *. Colour: probability of the target with that activation restored (corrupted p at the low end)."))
        for kind in config.kinds { page.append(.link(file: "\(kind.rawValue).csv", text: "\(kind.rawValue).csv (long form)")) }
        try folder.writeIndex(page)
    }
}

/// `[a][b]` → `[b][a]`.
func transpose(_ m: [[Double]]) -> [[Double]] {
    guard let width = m.first?.count else { return [] }
    return (0..<width).map { j in m.map { $0[j] } }
}
