// loupe-bench --trace: causal tracing speed, and what each trick of the sweep saves.
import Analyses
import Foundation
import Linalg
import Models
import Tokenizers

/// Times a full causal trace of the Eiffel prompt (3 kinds, 30 layers, 10 samples), with lanes
/// as `loupe trace` runs it and in one lane, then, on
/// the state kind at three layers, the sweep against itself without batching and against the
/// straightforward loop (one full corrupted pass of all samples per cell, as ROME's code does),
/// with last-position and with all-position logits.
func traceBenchmark(_ loaded: LoadedModel, quick: Bool, report: (String, Double, String) -> Void) throws {
    let m = loaded.transformer, c = m.config
    let prompt = "The Eiffel Tower is located in the city of"
    let ids = try loaded.tokenizer.encode(prompt), n = ids.count
    let subject = try SubjectLocator.range(of: "The Eiffel Tower", in: ids, tokenizer: loaded.tokenizer)
    let std = try NoiseLevel.embeddingStd(loaded) * 3
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let s = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
    }
    print("causal tracing, \(n) tokens, subject tokens \(subject), load average \(loadAverage())")

    if !quick {
        // As `loupe trace` runs it: one lane per OpenBLAS thread, OpenBLAS on one thread; then
        // one lane with OpenBLAS threading each product, as a library call does by default.
        let threads = BLAS.threadCount
        var result: CausalTracing.Result? = nil
        BLAS.setThreadCount(1)
        let full = try seconds {
            result = try CausalTracing(model: m, config: .init(lanes: threads)).run(tokens: ids, subject: subject, noiseStd: std)
        }
        BLAS.setThreadCount(threads)
        let oneLane = try seconds { _ = try CausalTracing(model: m).run(tokens: ids, subject: subject, noiseStd: std) }
        let r = result!
        let passes = Double(r.rowLayersComputed) / Double(n * c.nLayers)
        let naivePasses = Double(r.rowLayersNaive) / Double(n * c.nLayers)
        report("trace_full_seconds", full, String(format:
            "full trace (3 kinds x %d layers x %d tokens, 10 samples), %d lanes: %.1f s; %.0f forward-pass equivalents of the prompt vs %.0f for the naive loop (%.2fx fewer)",
            c.nLayers, n, threads, full, passes, naivePasses, naivePasses / passes))
        report("trace_full_one_lane_seconds", oneLane, String(format:
            "  the same in one lane, OpenBLAS on %d threads: %.1f s (lanes save %.0f%%)", threads, oneLane, 100 * (1 - full / oneLane)))
    }

    // The state kind at three layers, four ways.
    let layers = [0, 10, 20]
    let config = CausalTracing.Config(kinds: [.state], layers: layers)
    var sweep: CausalTracing.Result? = nil
    let batched = try seconds { sweep = try CausalTracing(model: m, config: config).run(tokens: ids, subject: subject, noiseStd: std) }
    var unbatchedConfig = config
    unbatchedConfig.runsPerBatch = 1
    let unbatched = try seconds { _ = try CausalTracing(model: m, config: unbatchedConfig).run(tokens: ids, subject: subject, noiseStd: std) }

    // The straightforward loop with the same noise.
    let noise = try CausalTracing(model: m, config: config).drawNoise(subjectLength: subject.count, std: std)
    let clean = ActivationCache()
    var capture = HookSet()
    capture.capture(layers.map { .residPost($0) }, into: clean)
    _ = try m.forward([ids], hooks: capture)
    let samples = config.samples, d = c.dModel
    func naiveLoop(_ rows: Transformer.LogitRows) throws -> [[Double]] {
        var grid: [[Double]] = []
        for layer in layers {
            var row: [Double] = []
            for t in 0..<n {
                var hooks = HookSet()
                hooks.modify(.embed) { act, ctx in
                    let width = d * subject.count
                    for i in 0..<width { act.scalars[subject.lowerBound * d + i] += noise.scalars[ctx.sequence * width + i] }
                }
                hooks.replace(at: .residPost(layer), with: clean.tensor(.residPost(layer))!, positions: .positions([t]))
                let logits = try m.forward(Array(repeating: ids, count: samples), hooks: hooks, logits: rows).logits
                let target = sweep!.target
                row.append(logits.map { l -> Double in
                    let last = Array(l.scalars[(l.count - c.vocabSize)...])
                    let mx = last.max()!
                    let e = last.map { Double.exp(Double($0 - mx)) }
                    return e[target] / e.reduce(0, +)
                }.reduce(0, +) / Double(samples))
            }
            grid.append(row)
        }
        return grid
    }
    var naiveGrid: [[Double]] = []
    let naiveLast = try seconds { naiveGrid = try naiveLoop(.last) }
    let naiveAll = try seconds { _ = try naiveLoop(.all) }
    var maxDiff = 0.0
    for (i, layer) in layers.enumerated() { for t in 0..<n { maxDiff = max(maxDiff, abs(naiveGrid[i][t] - sweep!.grids[.state]![layer][t])) } }
    report("trace_state3_sweep_seconds", batched, String(format: "state kind, layers %@, 10 samples: sweep %.2f s", "\(layers)", batched))
    report("trace_state3_unbatched_seconds", unbatched, String(format:
        "  the sweep one run per forward call:         %.2f s (batching saves %.0f%%)", unbatched, 100 * (1 - batched / unbatched)))
    report("trace_state3_naive_last_seconds", naiveLast, String(format:
        "  naive loop (full pass per cell), last-position logits: %.2f s (%.1fx the sweep)", naiveLast, naiveLast / batched))
    report("trace_state3_naive_all_seconds", naiveAll, String(format:
        "  naive loop, logits at every position:                  %.2f s (%.1fx the sweep; cells differ from the sweep's by at most %.1e)",
        naiveAll, naiveAll / batched, maxDiff))
}

/// The 1-minute load average, to say whether the machine was quiet.
func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
}
