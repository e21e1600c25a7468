import Foundation
import Models

/// Top-activating contexts of a graph's feature nodes: for every layer with a kept feature, that
/// layer's transcoder run over rows of its input hook (`blocks.L.mlp.hook_in`) by
/// ``SAEFeatureStatistics`` (the `loupe sae features` pass), tracking only the graph's latents.
/// The rows come from a store capture holding the hooks, or from corpus windows run live.
public struct GraphFeatureContexts: Sendable {
    /// Per layer, its transcoder's statistics.
    public let byLayer: [Int: SAEFeatureStatistics]
    /// Where the rows came from, for the page (`store acts.db capture 1`, `120 corpus windows`).
    public let source: String

    /// The kept feature nodes' latents per layer.
    static func latents(_ graph: AttributionGraph, pruning: GraphPruning) -> [Int: Set<Int>] {
        var out: [Int: Set<Int>] = [:]
        for (i, f) in graph.features.enumerated() where pruning.nodeMask[i] { out[f.layer, default: []].insert(f.feature) }
        return out
    }

    /// Reads each needed layer's input hook from capture `capture` (nil: the only one) of the
    /// store at `store`.
    /// - Throws: ``GraphError/badOption(_:)`` naming the store and the hook it lacks; the
    ///   store's and ``SAEError``s otherwise.
    public static func fromStore(_ graph: AttributionGraph, pruning: GraphPruning, store: String, capture: Int64? = nil,
                                 topCount: Int = 10, progress: ((String) -> Void)? = nil) throws -> GraphFeatureContexts {
        var byLayer: [Int: SAEFeatureStatistics] = [:]
        for (layer, tracked) in latents(graph, pruning: pruning).sorted(by: { $0.key < $1.key }) {
            let hook = HookPoint.mlpIn(layer).name
            progress?("contexts: layer \(layer) (\(tracked.count) features) from \(store) \(hook)")
            do {
                byLayer[layer] = try SAEFeatureStatistics.collect(sae: graph.replacement.transcoders.transcoders[layer], store: store, capture: capture,
                                                                  hook: hook, topCount: topCount, sampleCount: 1, tracked: tracked)
            } catch let error as SAEError {
                throw error
            } catch {
                throw GraphError.badOption("\(store): cannot read \(hook), the input of layer \(layer)'s transcoder (capture it with `loupe capture --hooks 'blocks.*.mlp.hook_in'`): \(error)")
            }
        }
        return GraphFeatureContexts(byLayer: byLayer, source: "store \(URL(fileURLWithPath: store).lastPathComponent)" + (capture.map { " capture \($0)" } ?? ""))
    }

    /// Runs `windows` (token ids, e.g. corpus windows) through the graph's model once, reading
    /// every needed layer's input hook in the same passes.
    /// - Throws: ``SAEError`` for no windows or no rows kept; ``Models/ModelError`` from the passes.
    public static func live(_ graph: AttributionGraph, pruning: GraphPruning, windows: [[Int]], topCount: Int = 10,
                            progress: ((Int, Int) -> Void)? = nil) throws -> GraphFeatureContexts {
        let needed = latents(graph, pruning: pruning).sorted { $0.key < $1.key }
        guard !needed.isEmpty else { return GraphFeatureContexts(byLayer: [:], source: "\(windows.count) corpus windows") }
        let saes = needed.map { (sae: graph.replacement.transcoders.transcoders[$0.key], hook: HookPoint.mlpIn($0.key), tracked: Optional($0.value)) }
        let stats = try SAEFeatureStatistics.collectLive(saes: saes, model: graph.replacement.model, windows: windows, topCount: topCount,
                                                          sampleCount: 1, progress: progress)
        return GraphFeatureContexts(byLayer: Dictionary(uniqueKeysWithValues: zip(needed.map(\.key), stats)),
                                    source: "\(windows.count) corpus windows (\(windows.reduce(0) { $0 + $1.count }) tokens)")
    }

    /// Feature `f`'s top occurrences, largest first (empty when its layer was not read).
    public func top(_ f: ActiveFeature) -> [SAEFeatureStatistics.Occurrence] { byLayer[f.layer]?.top[f.feature] ?? [] }
}
