import Analyses
import Foundation
import Models
import Store

extension Loupe.GraphBuild {
    /// The kept features' top contexts from --store or --corpus (nil when neither is given).
    func featureContexts(_ graph: AttributionGraph, pruning: GraphPruning, model m: LoadedModel) throws -> GraphFeatureContexts? {
        if let store {
            return try GraphFeatureContexts.fromStore(graph, pruning: pruning, store: store, capture: capture, topCount: topContexts,
                                                      progress: Console.progress)
        }
        guard let corpus, let context else { return nil }
        // Windows as `loupe capture --corpus` and `sae train --corpus` cut them by default (no BOS added).
        let windows = try CorpusWindows(context: context, maxContext: m.config.contextLength)
        let all = try CaptureJob.Input.corpus(try CorpusFile.read(corpus), path: corpus, windows: windows, addSpecial: false, parseSpecial: true,
                                              tokenizer: m.tokenizer, progress: Console.progress).prompts.map(\.tokens)
        let selected = SAEEvaluation.select(all, maxTokens: maxTokens)
        Console.progress("contexts: \(selected.count) windows of \(context) tokens from \(corpus)")
        return try GraphFeatureContexts.live(graph, pruning: pruning, windows: selected, topCount: topContexts) { done, total in
            if done == total || done % 64 == 0 { Console.progress("contexts: windows \(done)/\(total)") }
        }
    }
}
