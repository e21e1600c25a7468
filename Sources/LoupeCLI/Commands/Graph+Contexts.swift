import Analyses
import ArgumentParser
import Foundation
import Models
import Store

extension Loupe.GraphBuild {
    /// The kept features' top contexts from --store or --corpus (nil when neither is given).
    func featureContexts(_ graph: AttributionGraph, pruning: GraphPruning, model m: LoadedModel) throws -> GraphFeatureContexts? {
        if let store {
            let summary = try ActivationStore(path: store).captureSummary(choosing: capture)
            if summary.modelHash != (try ModelIdentity(of: m)).fileHash {
                throw ValidationError("\(store) capture \(summary.id) was made with \(summary.model) (hash \(summary.modelHash)), not \(m.path): its rows are another model's activations")
            }
            return try GraphFeatureContexts.fromStore(graph, pruning: pruning, store: store, capture: capture, topCount: topContexts,
                                                      progress: Console.progress)
        }
        guard let corpus, let context else { return nil }
        // Windows as `loupe capture --corpus` and `sae train --corpus` cut them by default (no BOS added).
        let windows = try CorpusWindows(context: context, maxContext: m.config.contextLength)
        // Documents are tokenized 64 at a time until the windows reach --max-tokens, not the whole corpus.
        let documents = try CorpusFile.read(corpus)
        var all: [[Int]] = [], start = 0
        while start < documents.count && all.reduce(0, { $0 + $1.count }) < maxTokens {
            let chunk = Array(documents[start..<min(documents.count, start + 64)])
            do {
                all += try CaptureJob.Input.corpus(chunk, path: corpus, windows: windows, addSpecial: false, parseSpecial: true,
                                                   tokenizer: m.tokenizer).prompts.map(\.tokens)
            } catch StoreError.badWindowing {}   // 64 documents too short for a window; read on
            start += chunk.count
        }
        guard !all.isEmpty else { throw ValidationError("\(corpus): no windows: every document has fewer than \(context) tokens (--context)") }
        let selected = SAEEvaluation.select(all, maxTokens: maxTokens)
        Console.progress("contexts: \(selected.count) windows of \(context) tokens from \(corpus)")
        return try GraphFeatureContexts.live(graph, pruning: pruning, windows: selected, topCount: topContexts) { done, total in
            if done == total || done % 64 == 0 { Console.progress("contexts: windows \(done)/\(total)") }
        }
    }
}
