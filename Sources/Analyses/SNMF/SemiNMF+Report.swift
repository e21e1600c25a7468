import Foundation
import Reporting

extension SemiNMF.Result {
    /// Tokens per feature a report lists by default (`tokens.csv`, the feature pages).
    public static let reportTopTokens = 10

    /// The indices of `values`' `count` largest entries by `key`, largest first (ties: lower index).
    static func top(_ count: Int, of values: ArraySlice<Float>, by key: (Float) -> Float) -> [Int] {
        let base = values.startIndex
        return values.indices.sorted { a, b in
            let (x, y) = (key(values[a]), key(values[b]))
            return x != y ? x > y : a < b
        }.prefix(count).map { $0 - base }
    }

    /// Writes `summary.txt`, `loss.csv`, `loss.svg`, `features.csv` (each feature's
    /// `neurons` largest-magnitude neurons and weights), `snmf.json` (``SNMFFile``, codes
    /// included when `includeCodes` and ``codes`` holds Y; `codesFile` names Y's `.npy` file
    /// when the ranks of an MPI fit wrote it beside the report) and, when the rows came from a store, `tokens.csv`
    /// (each feature's `topTokens` tokens by Y with their prompt context), and with
    /// `vocabulary` `vocabulary.csv` (the tokens each feature's residual image promotes and
    /// suppresses, ``SNMFVocabularyLens``).
    ///
    /// The top tokens come from `topCodes` when given (a fit over MPI ranks, where no rank holds
    /// Y: ``SNMFTopCodes/gathered(codes:rank:block:count:communicator:)``), else from ``codes``.
    /// - Parameters:
    ///   - tokenText: a token id's text, when a tokenizer is at hand (else ids only).
    ///   - command: the command line that made the report.
    public func writeReport(to folder: inout ReportFolder, rows: any SNMFRowProvenance, command: String, neurons shown: Int = 10,
                            topTokens: Int = reportTopTokens, includeCodes: Bool = false, tokenText: ((Int) -> String)? = nil,
                            vocabulary: [SNMFVocabularyLens.Effects]? = nil, topCodes: SNMFTopCodes? = nil,
                            codesFile: String? = nil) throws {
        let (k, d, n) = (rank, neurons, tokens)
        let top = rows.hasOrigins ? topCodes ?? SNMFTopCodes(codes: codes, rank: k, block: 0..<n, count: min(topTokens, n)) : nil
        let origins = try rows.origins(of: Set(top?.features.flatMap { $0.map(\.token) } ?? []))
        var summary = SummaryText(title: "Semi-NMF (Ding et al. 2010; Shafran et al. 2025)")
        summary.field("source", rows.source)
        summary.field("tokens x neurons", "\(n) x \(d)")
        if let left = rows.leftOut { summary.field("store rows left out", left.description) }
        summary.field("rank", k)
        summary.field("sparsity", config.sparsity == 0 ? "off" : "\(NumberFormat.string(config.sparsity)) (\(config.keptNeurons(of: d)) of \(d) neurons per feature)")
        summary.field("init", config.initialization.summary(seed: config.seed))
        summary.field("ridge", config.ridge)
        summary.field("iterations run", losses.count - 1)
        summary.field("best iteration", bestIteration)
        summary.field("stopped by", converged ? "tolerance \(NumberFormat.string(config.tolerance)), patience \(config.patience)" : "iteration cap \(config.iterations)")
        summary.field("start relative error", relativeErrors[0])
        summary.field("relative error", relativeError)
        summary.field("loss", bestLoss)
        summary.blankLine()
        summary.sentence("Relative error is ‖A - ZY‖ / ‖A‖ with tokens as the columns of A; each feature is a column of Z (a signed group of neurons) and its row of Y (>= 0) says how strongly each token expresses it.")
        summary.field("command", command)
        try folder.writeSummary(summary)

        var lossTable = CSVTable(header: ["iteration", "loss", "relative_error"])
        for (i, (l, e)) in zip(losses, relativeErrors).enumerated() { lossTable.append([.int(i), .double(l), .double(e)]) }
        try folder.write(lossTable, to: "loss.csv")
        let chart = SVGLineChart(title: "Semi-NMF reconstruction error (rank \(k))", x: losses.indices.map(Double.init),
                                 series: [.init(name: "‖A - ZY‖ / ‖A‖", values: relativeErrors)],
                                 xAxisLabel: "iteration", yAxisLabel: "relative error")
        try folder.write(chart.svg(), to: "loss.svg")

        var featureTable = CSVTable(header: ["feature", "rank", "neuron", "weight"])
        for f in 0..<k {
            let row = features[(f * d)..<((f + 1) * d)]
            for (r, j) in Self.top(min(shown, d), of: row, by: abs).enumerated() where row[row.startIndex + j] != 0 {
                featureTable.append([.int(f), .int(r + 1), .int(j), .double(Double(row[row.startIndex + j]))])
            }
        }
        try folder.write(featureTable, to: "features.csv")

        if let top {
            var tokenTable = CSVTable(header: ["feature", "rank", "code", "prompt", "position", "token_id", "token", "context"])
            for (f, list) in top.features.enumerated() {
                for (r, e) in list.enumerated() {
                    let o = try origins.origin(of: e.token)
                    tokenTable.append([.int(f), .int(r + 1), .double(Double(e.code)), .int(o.prompt), .int(o.position),
                                       .int(o.token), .string(tokenText.map { $0(o.token) } ?? ""),
                                       .string(Self.context(of: o, in: origins, tokenText: tokenText))])
                }
            }
            try folder.write(tokenTable, to: "tokens.csv")
        }
        if let vocabulary {
            var table = CSVTable(header: ["feature", "effect", "rank", "token_id", "token", "logit"])
            for (f, e) in vocabulary.enumerated() {
                for (name, list) in [("promotes", e.promoted), ("suppresses", e.suppressed)] {
                    for (r, t) in list.enumerated() {
                        table.append([.int(f), .string(name), .int(r + 1), .int(t.token),
                                      .string(tokenText.map { $0(t.token) } ?? ""), .double(Double(t.logit))])
                    }
                }
            }
            try folder.write(table, to: "vocabulary.csv")
        }
        try folder.writeIndex(page(summary: summary, origins: origins, command: command, neurons: shown, top: top,
                                   tokenText: tokenText, vocabulary: vocabulary))
        var file = SNMFFile(result: self, rows: rows, includeCodes: includeCodes && codes.count == k * n)
        file.codesFile = codesFile
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        try folder.write(try e.encode(file), to: "snmf.json")
    }

    /// The run's page: the summary, the loss curve, then per feature its top tokens in context
    /// (token marked), its largest neurons and, with `vocabulary`, what it promotes and suppresses.
    func page(summary: SummaryText, origins: SNMFRowOrigins, command: String, neurons shown: Int, top: SNMFTopCodes?,
              tokenText: ((Int) -> String)?, vocabulary: [SNMFVocabularyLens.Effects]?) -> HTMLPage {
        let (k, d) = (rank, neurons)
        var page = HTMLPage(title: "Semi-NMF features, rank \(k)", summary: summary.rendered(), command: command)
        page.append(.image(file: "loss.svg", caption: "Relative reconstruction error by iteration."))
        let name = { (t: Int) in tokenText.map { TokenLabel.display($0(t)) } ?? "#\(t)" }
        for f in 0..<k {
            page.append(.heading("Feature \(f)"))
            if let list = top?.features[f] {
                page.append(.markedLines(list.compactMap { e in
                    guard let o = origins.rows[e.token] else { return nil }
                    let label = NumberFormat.string(Double(e.code))
                    guard let c = Self.contextPieces(of: o, in: origins, tokenText: tokenText) else {
                        return .init(label: label, before: "prompt \(o.prompt) position \(o.position) ", marked: name(o.token), after: "")
                    }
                    return .init(label: label, before: c.before, marked: c.token, after: c.after)
                }))
            }
            let weights = features[(f * d)..<((f + 1) * d)]
            let top = Self.top(min(shown, d), of: weights, by: abs).filter { weights[weights.startIndex + $0] != 0 }
            page.append(.paragraph("Neurons: " + top.map { "\($0) (\(NumberFormat.string(Double(weights[weights.startIndex + $0]))))" }.joined(separator: ", ")))
            if let e = vocabulary?[f] {
                page.append(.paragraph("Promotes: " + e.promoted.map { name($0.token) }.joined(separator: " ")))
                page.append(.paragraph("Suppresses: " + e.suppressed.map { name($0.token) }.joined(separator: " ")))
            }
        }
        for file in ["features.csv", "loss.csv"] + (top == nil ? [] : ["tokens.csv"]) + (vocabulary == nil ? [] : ["vocabulary.csv"]) {
            page.append(.link(file: file, text: file))
        }
        return page
    }

    /// Up to 8 tokens before a row's token and 2 after, as text pieces; nil without a
    /// tokenizer or the prompt.
    static func contextPieces(of o: SNMFRows.Origin, in origins: SNMFRowOrigins, tokenText: ((Int) -> String)?)
        -> (before: String, token: String, after: String)? {
        guard let tokenText, let prompt = origins.prompts[o.prompt], o.position < prompt.tokens.count else { return nil }
        let text = { (r: Range<Int>) in r.map { tokenText(prompt.tokens[$0]) }.joined().replacingOccurrences(of: "\n", with: "⏎") }
        return (text(max(0, o.position - 8)..<o.position), text(o.position..<(o.position + 1)),
                text((o.position + 1)..<min(prompt.tokens.count, o.position + 3)))
    }

    /// Up to 8 tokens before a row's token and 2 after, the token in [brackets], when a
    /// tokenizer is at hand; else the prompt's text (at most 120 characters).
    static func context(of o: SNMFRows.Origin, in origins: SNMFRowOrigins, tokenText: ((Int) -> String)?) -> String {
        if let c = contextPieces(of: o, in: origins, tokenText: tokenText) { return "\(c.before)[\(c.token)]\(c.after)" }
        return origins.prompts[o.prompt].map { String($0.text.prefix(120)) } ?? ""
    }
}
