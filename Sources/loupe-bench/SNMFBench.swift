// loupe-bench --snmf: semi-NMF iterations at d = 1536 neurons, n = 20,000 tokens, rank 100,
// sparsity 0.01 (the issue's size: layer-15 MLP activations of the default model). With
// --snmf-data DIR it fits the x.npy that bench/snmf_numpy.py wrote and timed, so both sides
// factorize the same rows from the same kind of start (random Y, Z by ridge least squares).
import Analyses
import Foundation
import Formats
import Linalg

func snmfBenchmark(data: String?, iterations: Int, report: (String, Double, String) -> Void) throws {
    let (n, d, k) = (20_000, 1536, 100)
    let x: Tensor
    if let data {
        x = try NumPyArray.read(path: data + "/x.npy")
        precondition(x.shape == [n, d], "unexpected shape \(x.shape) in \(data)/x.npy")
    } else {
        var rng = SeededRandom(seed: 0)
        x = Tensor(shape: [n, d], scalars: (0..<(n * d)).map { _ in max(rng.nextGaussian(), -0.17) })
    }
    let rows = try SNMFRows(matrix: x, source: "bench")
    let config = SemiNMF.Config(rank: k, sparsity: 0.01, initialization: .random, seed: 0, iterations: iterations,
                                tolerance: 0, patience: iterations + 1)
    var stamps: [UInt64] = [], steps: [(String, Double)] = []
    let started = DispatchTime.now().uptimeNanoseconds
    let result = try SemiNMF(config: config).fit(rows, progress: { _, _, _ in stamps.append(DispatchTime.now().uptimeNanoseconds) },
                                                 steps: { steps.append(($0, $1)) })
    let total = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    let times = zip(stamps.dropFirst(), stamps).map { Double($0 - $1) / 1e9 }.sorted()
    let median = times[times.count / 2]
    let gflops = 4 * Double(d) * Double(n) * Double(k) / median / 1e9
    print("snmf: \(n) tokens x \(d) neurons, rank \(k), sparsity 0.01, \(data.map { "data from " + $0 } ?? "generated data"), threads \(BLAS.threadCount)")
    report("snmf_iteration_seconds", median, String(format: "snmf iteration: %.1f ms median of %d (%.1f-%.1f), %.1f GFLOP/s (4dnk)",
                                                   median * 1e3, times.count, times.first! * 1e3, times.last! * 1e3, gflops))
    // Per step, the median over the iterations after the first (the timers add a few clock reads).
    var order: [String] = []
    for (name, _) in steps where !order.contains(name) { order.append(name) }
    let perStep = order.map { name -> String in
        let times = steps.filter { $0.0 == name }.dropFirst().map(\.1).sorted()
        return String(format: "%@ %.1f ms", name, times.isEmpty ? 0 : times[times.count / 2] * 1e3)
    }
    print("snmf steps (median): " + perStep.joined(separator: ", "))
    report("snmf_fit_seconds", total, String(format: "snmf fit of %d iterations with the random start: %.2f s, relative error %.4f",
                                            iterations, total, result.relativeError))
}
