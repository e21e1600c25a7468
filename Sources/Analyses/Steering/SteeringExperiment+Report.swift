import Foundation
import Reporting

extension SteeringExperiment.Result {
    /// Writes `summary.txt`, `generations.csv` (one row per prompt and setting, the unsteered
    /// text as setting "unsteered"), `settings.csv` and `index.html` (each prompt's texts
    /// side by side) into `folder`.
    public func writeReport(to folder: inout ReportFolder, model: String, command: String) throws {
        var summary = SummaryText(title: "Steering (\(mode))")
        summary.field("model", model)
        summary.field("directions", directions.joined(separator: ", "))
        summary.field("positions", positions)
        summary.field("sampling", sampling.temperature == 0 ? "greedy" : "temperature \(sampling.temperature), top-k \(sampling.topK), top-p \(sampling.topP), seed \(sampling.seed) (same seed for every setting)")
        for (hook, n) in typicalNorms.sorted(by: { $0.key < $1.key }) {
            summary.field("typical norm \(hook)", "\(NumberFormat.string(n)) (mean row norm on the neutral text, position 0 left out)")
        }
        for (hook, p) in zip(directions, neutralProjections) {
            summary.field("neutral projection \(hook)", "\(NumberFormat.string(p)) (mean row . unit direction on the neutral text, position 0 left out)")
        }
        if let targets = ablationTargets {
            summary.field("ablation target", targets.map(NumberFormat.string).joined(separator: "/") + " (every edited row's projection after the ablation)")
            summary.field("position 0", ablatesFirstPosition == true ? "ablated too" : "left alone (attention sink)")
        }
        if !conceptTokens.isEmpty { summary.field("concept tokens", conceptTokens.map { TokenLabel.display($0) }.joined(separator: " ")) }
        if let b = baselineConceptProbability { summary.field("p(concept), unsteered", b) }
        if let r = readout, let b = baselineReadoutScore { summary.field("\(r), unsteered", b) }
        summary.field("perplexity, unsteered", baselinePerplexity)
        summary.blankLine()
        for s in settings {
            var parts = ["scale " + s.scales.map(NumberFormat.string).joined(separator: "/"),
                         "x norm " + s.normMultiples.map(NumberFormat.string).joined(separator: "/")]
            if let p = s.conceptProbability { parts.append("p(concept) \(NumberFormat.string(p))") }
            if let r = readout, let p = s.readoutScore { parts.append("\(r) \(NumberFormat.string(p))") }
            parts.append("KL neutral \(NumberFormat.string(s.klNeutral)) nats")
            parts.append("perplexity \(NumberFormat.string(s.meanPerplexity))")
            summary.field(s.label, parts.joined(separator: ", "))
        }
        summary.blankLine()
        summary.sentence("p(concept): summed next-token probability of the concept tokens at the end of each prompt, steering every position. KL neutral: mean KL(unsteered || steered) of the next-token distribution over the neutral text's positions 1... Perplexity: of the generated text under the unsteered model.")
        if let r = readout {
            summary.sentence("\(r): the probe's mean probability at the last position of each prompt, read at its hook with the steering active (every position steered), against the unsteered run.")
        }
        summary.field("command", command)
        try folder.writeSummary(summary)

        var gens = CSVTable(header: ["prompt", "setting", "text", "perplexity"])
        // p_probe: the concept readout's mean score (the probe's probability), empty without one;
        // its unsteered value is the row "unsteered".
        var settingsCSV = CSVTable(header: ["setting", "scales", "norm_multiples", "p_concept", "p_probe", "kl_neutral", "mean_perplexity"])
        if baselineConceptProbability != nil || baselineReadoutScore != nil {
            settingsCSV.append([.string("unsteered"), .string("0"), .string("0"),
                                baselineConceptProbability.map { .double($0) } ?? .string(""),
                                baselineReadoutScore.map { .double($0) } ?? .string(""), .double(0), .double(baselinePerplexity)])
        }
        for s in settings {
            settingsCSV.append([.string(s.label), .string(s.scales.map(NumberFormat.string).joined(separator: " ")),
                                .string(s.normMultiples.map(NumberFormat.string).joined(separator: " ")),
                                s.conceptProbability.map { .double($0) } ?? .string(""),
                                s.readoutScore.map { .double($0) } ?? .string(""), .double(s.klNeutral), .double(s.meanPerplexity)])
        }
        var page = HTMLPage(title: "Steering: \(directions.joined(separator: ", "))", summary: summary.rendered(), command: command)
        for p in prompts {
            gens.append([.string(p.prompt), "unsteered", .string(p.unsteered.text), .double(p.unsteered.perplexity)])
            var block = "unsteered".padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + p.prompt + p.unsteered.text
            for (s, g) in zip(settings, p.steered) {
                gens.append([.string(p.prompt), .string(s.label), .string(g.text), .double(g.perplexity)])
                block += "\n" + s.label.padding(toLength: 14, withPad: " ", startingAt: 0) + "| " + p.prompt + g.text
            }
            page.append(.heading(p.prompt))
            page.append(.preformatted(block))
        }
        try folder.write(gens, to: "generations.csv")
        try folder.write(settingsCSV, to: "settings.csv")
        page.append(.link(file: "generations.csv", text: "generations.csv"))
        page.append(.link(file: "settings.csv", text: "settings.csv"))
        try folder.writeIndex(page)
    }
}
