import Analyses
import Foundation
import Linalg
import Models

/// `loupe-bench --steer`: greedy generation tokens/s unsteered vs steered (one direction added
/// at blocks.15.hook_resid_post at every position, and projected out), interleaved runs, median and best.
func steerBenchmark(_ loaded: LoadedModel, report: (String, Double, String) -> Void) throws {
    let model = loaded.transformer, c = model.config
    var rng = SeededRandom(seed: 3)
    let prompt = (0..<16).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
    let vector = (0..<c.dModel).map { _ in rng.nextGaussian() }
    let direction = SteeringDirection(vector: vector, hook: HookPoint.residPost(c.nLayers / 2).name,
                                      provenance: .init(source: "vector", norm: 0))
    let add = SteeringIntervention.hooks([try SteeringIntervention(direction: direction, config: c, scale: 0.1)], promptLength: prompt.count)
    let ablate = SteeringIntervention.hooks([try SteeringIntervention(direction: direction, config: c, mode: .ablate, scale: 0)], promptLength: prompt.count)
    var rates: [String: [Double]] = ["plain": [], "add": [], "ablate": []]
    _ = try model.generate(prompt: prompt, maxNewTokens: 64)
    for _ in 0..<9 {
        for (name, hooks) in [("plain", HookSet()), ("add", add), ("ablate", ablate)] {
            rates[name]!.append(try model.generate(prompt: prompt, maxNewTokens: 64, hooks: hooks).tokensPerSecond)
        }
    }
    // Best run as well as the median: on a shared machine the fastest run is the least disturbed.
    let median = rates.mapValues { $0.sorted()[$0.count / 2] }, best = rates.mapValues { $0.max()! }
    for name in ["plain", "add", "ablate"] {
        report("steer_generate_\(name)_tokens_per_s", median[name]!, String(format:
            "generate, %@: median %.1f tokens/s (%.1f%% of unsteered), best %.1f (%.1f%%); 9 interleaved runs of 64 tokens",
            name, median[name]!, 100 * median[name]! / median["plain"]!, best[name]!, 100 * best[name]! / best["plain"]!))
        results["steer_generate_\(name)_best_tokens_per_s"] = best[name]!
    }
}
