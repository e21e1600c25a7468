import Foundation
import Reporting

extension SAEFeatureStatistics {
    /// Latents firing on more than this fraction of rows count as dense (SAELens's evaluation uses 10%).
    public static let denseFraction = 0.1

    /// Latents that never fired.
    public var dead: Int { fired.filter { $0 == 0 }.count }
    /// Latents firing on more than ``denseFraction`` of rows.
    public var dense: Int { density.filter { $0 > Self.denseFraction }.count }

    /// A latent's sampled activations that are not in its top list, cut into quartile bands
    /// (highest first), `perBand` occurrences from each, spread evenly through the band,
    /// largest first: what the latent does below its top activations. Empty when the top list
    /// holds every row the latent fired on.
    public func bands(of latent: Int, perBand: Int = 4) -> [(name: String, occurrences: [Occurrence])] {
        let inTop = Set(top[latent].map { [$0.prompt, $0.position] })
        let sorted = sample[latent].filter { !inTop.contains([$0.prompt, $0.position]) }.sorted { $0.value != $1.value ? $0.value > $1.value : ($0.prompt, $0.position) < ($1.prompt, $1.position) }
        guard !sorted.isEmpty, perBand > 0 else { return [] }
        let names = ["75-100th percentile", "50-75th percentile", "25-50th percentile", "0-25th percentile"]
        return names.enumerated().compactMap { q, name in
            let lo = sorted.count * q / 4, hi = sorted.count * (q + 1) / 4
            guard hi > lo else { return nil }
            let picks = (0..<min(perBand, hi - lo)).map { lo + $0 * (hi - lo) / min(perBand, hi - lo) }
            return (name, picks.map { sorted[$0] })
        }
    }

    /// Up to `before` tokens before an occurrence's token and `after` after it, as text pieces,
    /// with newlines shown as `⏎`; nil when the prompt is unknown or `tokenText` is nil.
    public func context(of o: Occurrence, tokenText: ((Int) -> String)?, before: Int = 12, after: Int = 4)
        -> (before: String, token: String, after: String)? {
        guard let tokenText, let prompt = prompts[o.prompt], o.position < prompt.tokens.count else { return nil }
        let text = { (range: Range<Int>) in range.map { tokenText(prompt.tokens[$0]) }.joined().replacingOccurrences(of: "\n", with: "⏎") }
        return (text(max(0, o.position - before)..<o.position), text(o.position..<(o.position + 1)),
                text((o.position + 1)..<min(prompt.tokens.count, o.position + 1 + after)))
    }

    /// Writes a feature report: `summary.txt`, `latents.csv` (every latent's firing count,
    /// density, largest and mean activation), `density.svg` (the log10 density histogram),
    /// `l0.csv`, `contexts.csv` (each shown latent's top contexts and quartile-band samples),
    /// `vocabulary.csv` (what each shown latent's decoder row promotes and suppresses, when
    /// `vocabulary` is given), one `latent-N.html` per shown latent and `index.html`.
    /// - Parameters:
    ///   - shown: the latents to write pages for (each below `d_sae`).
    ///   - vocabulary: one ``VocabularyLens/Effects`` per shown latent, or nil.
    ///   - tokenText: a token id's text (nil: ids only).
    ///   - command: the command line that made the report.
    public func writeReport(to folder: inout ReportFolder, sae: any SparseAutoencoder, shown: [Int], command: String,
                            tokenText: ((Int) -> String)?, vocabulary: [VocabularyLens.Effects]?) throws {
        if let bad = shown.first(where: { !(0..<latents).contains($0) }) {
            throw SAEError.badSize("latent \(bad) is outside the SAE's \(latents) latents (0...\(latents - 1))")
        }
        let name = { (t: Int) in tokenText.map { TokenLabel.display($0(t)) } ?? "#\(t)" }
        var summary = SummaryText(title: "SAE features (\(sae.architecture), d_in \(sae.width), d_sae \(latents))")
        summary.field("rows", "\(rows) from \(source)")
        for (reason, count) in skipped.sorted(by: { $0.key < $1.key }) { summary.field("left out (\(reason))", count) }
        summary.field("mean L0", meanL0)
        summary.field("dead latents (never fired)", "\(dead) of \(latents)")
        summary.field("dense latents (> \(Int(Self.denseFraction * 100))% of rows)", "\(dense) of \(latents)")
        summary.field("latents shown", shown.map(String.init).joined(separator: ", "))
        summary.blankLine()
        summary.sentence("Contexts: each latent's largest activations over the rows, then a seeded uniform sample of the rows it fired on cut into quartile bands. Vocabulary: the decoder row through the final norm's gain and the unembedding.")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var table = CSVTable(header: ["latent", "fired", "density", "max_activation", "mean_activation", "top_token_id", "top_token"])
        for i in 0..<latents {
            let t = top[i].first?.token
            table.append([.int(i), .int(fired[i]), .double(density[i]), .double(Double(maxActivation[i])),
                          .double(fired[i] > 0 ? sumActivation[i] / Double(fired[i]) : 0), t.map { .int($0) } ?? .string(""),
                          .string(t.flatMap { tok in tokenText.map { $0(tok) } } ?? "")])
        }
        try folder.write(table, to: "latents.csv")
        let densityChart = densityHistogram()
        try folder.write(densityChart.svg(), to: "density.svg")
        var l0Table = CSVTable(header: ["l0", "rows"])
        for (l0, count) in l0Counts.enumerated() where count > 0 { l0Table.append([.int(l0), .int(count)]) }
        try folder.write(l0Table, to: "l0.csv")

        var contexts = CSVTable(header: ["latent", "band", "rank", "activation", "prompt", "position", "token_id", "token", "context"])
        for latent in shown {
            for (band, list) in [("top", top[latent])] + bands(of: latent) {
                for (r, o) in list.enumerated() {
                    let c = context(of: o, tokenText: tokenText)
                    contexts.append([.int(latent), .string(band), .int(r + 1), .double(Double(o.value)), .int(o.prompt), .int(o.position),
                                     .int(o.token), .string(tokenText.map { $0(o.token) } ?? ""),
                                     .string(c.map { "\($0.before)[\($0.token)]\($0.after)" } ?? "")])
                }
            }
        }
        try folder.write(contexts, to: "contexts.csv")
        if let vocabulary {
            var table = CSVTable(header: ["latent", "effect", "rank", "token_id", "token", "logit"])
            for (latent, e) in zip(shown, vocabulary) {
                for (effect, list) in [("promotes", e.promoted), ("suppresses", e.suppressed)] {
                    for (r, t) in list.enumerated() {
                        table.append([.int(latent), .string(effect), .int(r + 1), .int(t.token),
                                      .string(tokenText.map { $0(t.token) } ?? ""), .double(Double(t.logit))])
                    }
                }
            }
            try folder.write(table, to: "vocabulary.csv")
        }
        for (i, latent) in shown.enumerated() {
            try folder.write(latentPage(latent, name: name, tokenText: tokenText, vocabulary: vocabulary?[i]).rendered(), to: "latent-\(latent).html")
        }
        var index = HTMLPage(title: "SAE features: \(hook)", summary: summary.rendered(), command: command)
        index.append(.image(file: "density.svg", caption: "How often latents fire: log10 of the fraction of rows, live latents only (\(dead) dead)."))
        index.append(.heading("Latents shown"))
        for latent in shown {
            let word = top[latent].first.map { " top token \(name($0.token))," } ?? ""
            index.append(.link(file: "latent-\(latent).html",
                               text: "latent \(latent):\(word) density \(NumberFormat.string(density[latent])), max \(NumberFormat.string(Double(maxActivation[latent])))"))
        }
        index.append(.heading("Tables"))
        for file in ["latents.csv", "contexts.csv", "l0.csv"] + (vocabulary == nil ? [] : ["vocabulary.csv"]) {
            index.append(.link(file: file, text: file))
        }
        try folder.writeIndex(index)
    }

    /// The log10-density histogram of live latents, half-decade bins.
    func densityHistogram() -> SVGBarChart {
        let logs = density.filter { $0 > 0 }.map { log10($0) }
        let lowest = min(-1, Int((logs.min() ?? -1).rounded(.down)))
        let edges = stride(from: Double(lowest), to: 0, by: 0.5).map { $0 }
        // The last bin also holds density 1 (log10 0).
        let counts = edges.map { lo in Double(logs.filter { $0 >= lo && ($0 < lo + 0.5 || lo + 0.5 >= 0) }.count) }
        return SVGBarChart(title: "Latent density (\(latents - dead) live, \(dead) dead)", labels: edges.map { NumberFormat.string($0) },
                           values: counts, xAxisLabel: "log10 fraction of rows (bin start)", yAxisLabel: "latents")
    }

    /// One latent's page: numbers, the histogram of its sampled activations, its top contexts,
    /// its quartile bands and its vocabulary effects.
    func latentPage(_ latent: Int, name: @escaping (Int) -> String, tokenText: ((Int) -> String)?, vocabulary: VocabularyLens.Effects?) -> HTMLPage {
        var s = SummaryText()
        s.field("fired", "\(fired[latent]) of \(rows) rows (density \(NumberFormat.string(density[latent])))")
        s.field("max activation", Double(maxActivation[latent]))
        s.field("mean activation when firing", fired[latent] > 0 ? sumActivation[latent] / Double(fired[latent]) : 0)
        var page = HTMLPage(title: "Latent \(latent) at \(hook)", summary: s.rendered())
        page.append(.link(file: "index.html", text: "all latents"))
        let values = sample[latent].map { Double($0.value) }
        if let high = values.max(), high > 0 {
            let bins = 20
            var counts = [Double](repeating: 0, count: bins)
            for v in values { counts[min(bins - 1, Int(v / high * Double(bins)))] += 1 }
            let chart = SVGBarChart(title: "Activation when firing (sample of \(values.count))",
                                    labels: (0..<bins).map { NumberFormat.string(high * Double($0) / Double(bins)) },
                                    values: counts, xAxisLabel: "activation (bin start)", yAxisLabel: "rows")
            page.append(.inlineSVG(chart.svg(), caption: "Sampled activations of latent \(latent) on the rows it fired on."))
        }
        let line = { (o: Occurrence) -> HTMLPage.MarkedLine in
            let label = NumberFormat.string(Double(o.value))
            guard let c = self.context(of: o, tokenText: tokenText) else {
                return .init(label: label, before: "prompt \(o.prompt) position \(o.position) ", marked: name(o.token), after: "")
            }
            return .init(label: label, before: c.before, marked: c.token, after: c.after)
        }
        page.append(.heading("Top activations"))
        page.append(.markedLines(top[latent].map(line)))
        for band in bands(of: latent) {
            page.append(.heading("Sampled, \(band.name)"))
            page.append(.markedLines(band.occurrences.map(line)))
        }
        if let vocabulary {
            page.append(.heading("What the decoder row writes (logit lens)"))
            let n = max(vocabulary.promoted.count, vocabulary.suppressed.count)
            let cell = { (list: [(token: Int, logit: Float)], i: Int) in
                i < list.count ? [name(list[i].token), NumberFormat.string(Double(list[i].logit))] : ["", ""]
            }
            page.append(.table(header: ["promotes", "logit", "suppresses", "logit"],
                               rows: (0..<n).map { cell(vocabulary.promoted, $0) + cell(vocabulary.suppressed, $0) }))
        }
        return page
    }
}
