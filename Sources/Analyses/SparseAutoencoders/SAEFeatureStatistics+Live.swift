import Foundation
import Linalg
import Models

extension SAEFeatureStatistics {
    /// The statistics of several SAEs (each at its own hook) over token windows run through
    /// `model` live (``LiveActivations``; nothing stored): one forward pass per
    /// `windowsPerPass` windows feeds every SAE's ``Collector``, in window order. Window `i` is
    /// prompt `i` of the contexts. `tracked[k]` limits SAE k's tracked latents (nil: all).
    /// - Throws: ``SAEError`` for no windows, a window longer than the context, a hook whose
    ///   width is not the SAE's, or no rows kept; ``Models/ModelError`` from the passes.
    public static func collectLive(saes: [(sae: any SparseAutoencoder, hook: HookPoint, tracked: Set<Int>?)], model: Transformer,
                                   windows: [[Int]], outlierFactor: Float = 10, topCount: Int = 20, sampleCount: Int = 200,
                                   seed: UInt64 = 0, windowsPerPass: Int = 8, progress: ((Int, Int) -> Void)? = nil) throws -> [SAEFeatureStatistics] {
        var live = try LiveActivations(model: model, windows: windows, channels: saes.map { .init(input: $0.hook) },
                                       windowsPerPass: windowsPerPass, seed: seed, outlierFactor: outlierFactor)
        for (k, s) in saes.enumerated() where live.widths[k] != s.sae.width {
            throw SAEError.widthMismatch(expected: s.sae.width, found: live.widths[k], what: "\(s.hook.name) rows")
        }
        var collectors = try saes.map {
            try Collector(sae: $0.sae, source: "\(windows.count) corpus windows \($0.hook.name)", hook: $0.hook.name, outlierFactor: outlierFactor,
                          topCount: topCount, sampleCount: sampleCount, seed: seed, tracked: $0.tracked)
        }
        for start in stride(from: 0, to: windows.count, by: max(1, windowsPerPass)) {
            let range = start..<min(windows.count, start + max(1, windowsPerPass))
            let rows = try live.run(Array(windows[range]))
            // One batch per pass and SAE, so the outlier threshold comes from the first pass's rows.
            for k in saes.indices {
                var scalars: [Float] = [], prompts: [Int] = [], positions: [Int] = [], tokens: [Int] = []
                for (s, w) in range.enumerated() {
                    let x = rows[k][s].input, n = x.shape[0]
                    scalars += x.scalars
                    prompts += [Int](repeating: w, count: n)
                    positions += Array(0..<n)
                    tokens += windows[w].prefix(n)
                }
                try collectors[k].add(Tensor(shape: [prompts.count, saes[k].sae.width], scalars: scalars), prompts: prompts, positions: positions, tokens: tokens)
            }
            progress?(range.upperBound, windows.count)
        }
        return try collectors.map { c in
            try c.finish(prompts: Dictionary(uniqueKeysWithValues: c.namedPrompts.map { ($0, (text: "", tokens: windows[$0])) }))
        }
    }
}
