import Foundation
import Reporting

extension ActivationPatching.Result {
    /// The cell of `site` with the highest normalized logit difference when denoising (the
    /// lowest when noising: the patch that breaks the clean behaviour most).
    public func peak(_ site: ActivationPatching.Site) -> (layer: Int, column: Int, value: Double)? {
        guard let grid = normalizedGrid(site) else { return nil }
        var best: (Int, Int, Double)? = nil
        let better: (Double, Double) -> Bool = config.direction == .denoising ? { $0 > $1 } : { $0 < $1 }
        for (l, row) in grid.enumerated() {
            for (t, v) in row.enumerated() where v.isFinite && (best == nil || better(v, best!.2)) { best = (l, t, v) }
        }
        return best.map { (layer: $0.0, column: $0.1, value: $0.2) }
    }

    /// Writes `summary.txt`, `positions.csv` (resid_pre / attn_out / mlp_out per layer and
    /// position), `heads.csv` (per layer and head), `patching.svg` (position heatmaps side by
    /// side), `heads.svg` and `index.html` into `folder`.
    ///
    /// - Parameters:
    ///   - cleanTokenText, corruptedTokenText: display strings of both prompts' tokens.
    public func writeReport(to folder: inout ReportFolder, model: String, cleanPrompt: String, corruptedPrompt: String,
                            cleanTokenText: [String], corruptedTokenText: [String],
                            answerText: String, wrongText: String, command: String) throws {
        let direction = config.direction
        var summary = SummaryText(title: "Activation patching (\(direction.rawValue))")
        summary.field("model", model)
        summary.field("clean prompt", cleanPrompt)
        summary.field("corrupted prompt", corruptedPrompt)
        summary.field("tokens", labels(cleanTokenText, corruptedTokenText).enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " "))
        summary.field("answer", "\(TokenLabel.display(answerText)) (id \(answer))")
        summary.field("wrong answer", "\(TokenLabel.display(wrongText)) (id \(wrong))")
        summary.field("direction", direction == .denoising ? "denoising: clean activations patched into the corrupted run"
                      : "noising: corrupted activations patched into the clean run")
        summary.field("clean logit diff", clean.logitDifference)
        summary.field("corrupted logit diff", corrupted.logitDifference)
        summary.field("clean p(answer)", clean.probability)
        summary.field("corrupted p(answer)", corrupted.probability)
        summary.field("metric", hasNormalizedScale ? "normalized logit difference: 0 = corrupted run, 1 = clean run"
                      : "normalized logit difference undefined (clean and corrupted logit differences are equal): nan; see logit_diff and ie_*")
        summary.field("indirect effect", "ie_logit_diff, ie_p_answer: the patched run minus the base (\(direction == .denoising ? "corrupted" : "clean")) run")
        var sentences: [String] = []
        for site in config.sites {
            guard let peak = peak(site) else { continue }
            let column = site.isPerHead ? "head \(peak.column)" : "position \(peak.column) \(labels(cleanTokenText, corruptedTokenText)[peak.column])"
            summary.field("peak \(site.rawValue)", "layer \(peak.layer), \(column): \(NumberFormat.string(peak.value))")
            let what = site == .head ? "head \(peak.layer).\(peak.column)'s output" : "\(site.rawValue) at layer \(peak.layer), \(column)"
            sentences.append(direction == .denoising
                ? "Patching the clean \(what) into the corrupted run restores \(Int((peak.value * 100).rounded()))% of the clean logit difference."
                : "Patching the corrupted \(what) into the clean run leaves \(Int((peak.value * 100).rounded()))% of the clean logit difference.")
        }
        summary.field("row-layers computed", rowLayersComputed)
        summary.field("row-layers, naive loop", rowLayersNaive)
        summary.blankLine()
        for s in sentences { summary.sentence(s) }
        summary.field("command", command)
        try folder.writeSummary(summary)

        let tokenLabels = labels(cleanTokenText, corruptedTokenText)
        var csv = CSVTable(header: ["site", "layer", "position", "token", "logit_diff", "normalized", "p_answer", "ie_logit_diff", "ie_p_answer"])
        var heads = CSVTable(header: ["site", "layer", "head", "logit_diff", "normalized", "p_answer", "ie_logit_diff", "ie_p_answer"])
        var heatmaps: [SVGHeatmap] = []
        var headMap: SVGHeatmap? = nil
        let all = config.sites.compactMap { normalizedGrid($0) }.joined().joined().filter(\.isFinite)
        let range = min(0, all.min() ?? 0)...max(1, all.max() ?? 1)
        for site in config.sites {
            guard let grid = grids[site], let normalizedGrid = normalizedGrid(site) else { continue }
            for (layer, row) in grid.enumerated() {
                for (column, m) in row.enumerated() {
                    let value = normalizedGrid[layer][column], ie = indirectEffect(m)
                    if site.isPerHead {
                        heads.append([.string(site.rawValue), .int(layer), .int(column), .double(m.logitDifference), .double(value),
                                      .double(m.probability), .double(ie.logitDifference), .double(ie.probability)])
                    } else {
                        csv.append([.string(site.rawValue), .int(layer), .int(column), .string(tokenLabels[column]),
                                    .double(m.logitDifference), .double(value), .double(m.probability),
                                    .double(ie.logitDifference), .double(ie.probability)])
                    }
                }
            }
            let ramp: ColorRamp = site == .residPre ? .purples : site == .mlpOut ? .greens : site == .attnOut ? .reds : .blues
            if site.isPerHead {
                var map = SVGHeatmap(title: "Patch each head's output (hook_z, all positions)", values: transpose(normalizedGrid),
                                     rowLabels: (0..<normalizedGrid[0].count).map { "head \($0)" }, xAxisLabel: "layer",
                                     colorBarLabel: "normalized logit diff", ramp: ramp, valueRange: range)
                map.rowLabelsAreTokens = false
                headMap = map
            } else {
                heatmaps.append(SVGHeatmap(title: "Patch \(site.rawValue)", values: transpose(normalizedGrid), rowLabels: tokenLabels,
                                           xAxisLabel: "layer", colorBarLabel: "normalized logit diff", ramp: ramp,
                                           highlightedRows: Set(differingPositions), valueRange: range))
            }
        }
        var page = HTMLPage(title: "Activation patching: \(cleanPrompt) / \(corruptedPrompt)", summary: summary.rendered(), command: command)
        if !heatmaps.isEmpty {
            try folder.write(csv, to: "positions.csv")
            try folder.write(SVGFigure.sideBySide(heatmaps, title: "\(direction.rawValue): normalized logit diff \(TokenLabel.display(answerText)) - \(TokenLabel.display(wrongText))"), to: "patching.svg")
            page.append(.image(file: "patching.svg", caption: "Rows are positions (marked *: where the prompts differ; 'clean/corrupted' tokens shown there), columns layers. 0 = corrupted run, 1 = clean run."))
            page.append(.link(file: "positions.csv", text: "positions.csv (long form)"))
        }
        if let headMap {
            try folder.write(heads, to: "heads.csv")
            try folder.write(headMap.svg(), to: "heads.svg")
            page.append(.image(file: "heads.svg", caption: "Each head's output (hook_z) patched at every position."))
            page.append(.link(file: "heads.csv", text: "heads.csv (long form)"))
        }
        try folder.writeIndex(page)
    }

    /// Positions where the clean and corrupted prompts have different tokens.
    public var differingPositions: [Int] {
        zip(cleanTokens, corruptedTokens).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    }

    /// Per position: the token, or `clean/corrupted` where they differ.
    public func labels(_ clean: [String], _ corrupted: [String]) -> [String] {
        zip(clean, corrupted).map { $0 == $1 ? $0 : "\($0)/\($1)" }
    }
}
