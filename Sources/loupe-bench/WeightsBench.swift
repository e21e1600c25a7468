import Formats
import Foundation
import Linalg
import Models

/// `--weights-bench`: one round for the weight format given by `--weights`, as one JSON line:
/// the kernel set in use (``KernelSet/active``), resident memory (VmRSS) before and after
/// loading and after the runs, forward-pass times on
/// 16 and 128 random tokens (median of 5 after a warm-up), and greedy generation tokens/s
/// (64 tokens after 16, median of 3). `bench/weights_compare.sh` alternates the formats in
/// separate processes and prints medians and ranges.
func weightsBenchmark(path: String, weights: WeightFormat) throws {
    let before = residentMegabytes()
    let loaded = try ModelLoader.load(path: path, weights: weights)
    let afterLoad = residentMegabytes()
    let model = loaded.transformer, vocab = UInt64(model.config.vocabSize)
    var rng = SeededRandom(seed: 1)
    var line: [String: Any] = ["weights": weights.rawValue, "kernels": KernelSet.active.rawValue, "threads": BLAS.threadCount,
                               "rss_start_mb": before, "rss_loaded_mb": afterLoad, "load_s": loaded.loadSeconds]
    for n in [16, 128] {
        let tokens = (0..<n).map { _ in Int(rng.next() % vocab) }
        line["forward_\(n)_ms"] = try time(runs: 5) { _ = try model.forward([tokens]) } * 1e3
    }
    let prompt = (0..<16).map { _ in Int(rng.next() % vocab) }
    var rates: [Double] = []
    for _ in 0..<4 { rates.append(try model.generate(prompt: prompt, maxNewTokens: 64).tokensPerSecond) }
    line["generate_tokens_per_s"] = rates.dropFirst().sorted()[1]
    line["rss_after_runs_mb"] = residentMegabytes()
    let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// This process's resident set (VmRSS in /proc/self/status), in MB; -1 where there is none.
func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return -1 }
    return kb / 1024
}
