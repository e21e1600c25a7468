import ArgumentParser
import Foundation
import Models

extension Loupe {
    /// `loupe info`: what was loaded.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the model's architecture, sizes and tokenizer.")

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        struct Report: Encodable {
            let path: String, format: String, config: TransformerConfig
            let parameters: Int, tokenizer: TokenizerSummary, unusedTensors: [String]
        }
        struct TokenizerSummary: Encodable {
            let vocabSize: Int, preTokenizer: String, bos: Int?, eos: Int?, endOfGeneration: [Int], hasChatTemplate: Bool
        }

        func run() throws {
            let m = try modelOptions.load()
            let c = m.config, t = m.tokenizer
            let report = Report(
                path: m.path, format: m.format, config: c, parameters: m.transformer.parameterCount,
                tokenizer: TokenizerSummary(vocabSize: t.vocabSize, preTokenizer: t.preTokenizerName,
                                            bos: t.bosID, eos: t.eosID, endOfGeneration: t.eogIDs.sorted(),
                                            hasChatTemplate: t.chatTemplate != nil),
                unusedTensors: m.unusedTensors)
            if format == .json { return try Console.json(report) }
            let rows: [(String, String)] = [
                ("model", c.name), ("file", abbreviatingHome(m.path)), ("format", m.format), ("architecture", c.architecture),
                ("parameters", String(format: "%.1fM", Double(report.parameters) / 1e6)),
                ("layers", "\(c.nLayers)"), ("d_model", "\(c.dModel)"),
                ("heads", "\(c.nHeads) query, \(c.nKVHeads) key/value, head_dim \(c.headDim)"),
                ("d_mlp", "\(c.dMLP) (\(c.mlpKind.rawValue))"),
                ("norm", "\(c.normKind.rawValue), eps \(c.normEps)"),
                ("positions", c.positionKind == .rotary
                    ? "rotary, theta \(c.ropeTheta)\(c.ropeScaling.map { ", scaling \($0)" } ?? "")" : "learned"),
                ("context", "\(c.contextLength) tokens"),
                ("unembedding", c.tiedEmbeddings ? "tied to the token embedding" : "separate"),
                ("vocabulary", "\(t.vocabSize) tokens, pre-tokenizer '\(t.preTokenizerName)'"),
                ("special ids", "bos \(t.bosID.map(String.init) ?? "-"), eos \(t.eosID.map(String.init) ?? "-"), end-of-generation \(t.eogIDs.sorted())"),
                ("chat template", t.chatTemplate == nil ? "none" : "yes"),
                ("unused tensors", m.unusedTensors.isEmpty ? "none" : m.unusedTensors.joined(separator: ", ")),
            ]
            let w = rows.map(\.0.count).max()!
            for (k, v) in rows { Console.out(k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v) }
        }
    }
}

/// `path` with the home folder written as `~`, so outputs read the same on every machine.
func abbreviatingHome(_ path: String) -> String {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
    return !home.isEmpty && path.hasPrefix(home + "/") ? "~" + path.dropFirst(home.count) : path
}
