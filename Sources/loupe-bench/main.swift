// loupe-bench: speed of the engine on the default (or given) model, release build.
//
//   swift run -c release loupe-bench [--model PATH] [--threads N] [--json FILE] [--quick] [--weights native|f32]
//                                    [--weights-bench] [--kernels-bench]
//                                    [--store [--store-db FILE]] [--trace] [--probes [--probes-data DIR]] [--steer]
//                                    [--snmf [--snmf-data DIR]]
//                                    [--sae [--sae-data X.npy] [--sae-architecture standard|topk] [--sae-latents 4608]
//                                     [--sae-k 32] [--sae-batch 2048] [--sae-steps 10] [--sae-repeats 3] [--sae-dead-fraction 0.02]]
//
// --weights picks how the model's matrices are held (default $LOUPE_WEIGHTS, else native); --weights-bench
// runs only one round of WeightsBench.swift (bench/weights_compare.sh alternates the formats);
// --kernels-bench times only the in-place kernels of each kernel set (KernelsBench.swift).
// --store runs only the activation store's benchmarks (StoreBench.swift); --store-db keeps its
// store in FILE and, when FILE already holds the capture, measures only the reads and sizes.
// --trace runs only causal tracing's (TraceBench.swift; --quick skips the full trace).
// --probes runs only the probe-fitting benchmark (ProbeBench.swift), on DIR's .npy files from
// bench/probes_sklearn.py when given. --steer runs only steered vs unsteered generation
// (SteerBench.swift). --snmf runs only semi-NMF iterations (SNMFBench.swift), on DIR/x.npy from
// bench/snmf_numpy.py when given (bench/snmf_compare.sh runs both sides interleaved).
// (SteerBench.swift). --sae runs only SAE training steps (SAEBench.swift), on X.npy when given
// (bench/sae_train_torch.py times PyTorch on the same matrix; bench/sae_compare.sh runs both).
// --profile-forward N only runs forward passes of N tokens for about 20 s (for `perf record`);
// --profile-hooks N the same with every hook point captured, as the hooks row of --quick does.
//
// Reports the machine's sgemm rate, forward-pass tokens/s on 16/128/512-token prompts with no
// hooks and with every hook point captured, the cost of the hook machinery, and greedy
// generation tokens/s with the memory-bandwidth bound for float32 weights.
import Analyses
import Foundation
import Linalg
import Models

struct Args {
    var model = ModelLoader.defaultModelPath
    var threads: Int? = nil
    var json: String? = nil
    var quick = false
    var store = false
    var trace = false
    var storeDB: String? = nil
    var probes = false
    var probesData: String? = nil
    var snmf = false
    var snmfData: String? = nil
    var steer = false
    var sae = false
    var weights = WeightFormat.default
    var weightsBench = false
    var kernelsBench = false
    var profileForward: Int? = nil
    var profileHooks = false
    var saeSettings = SAEBenchSettings()
    init() {
        var it = CommandLine.arguments.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--model": model = it.next() ?? model
            case "--threads": threads = it.next().flatMap(Int.init)
            case "--json": json = it.next()
            case "--quick": quick = true
            case "--store": store = true
            case "--trace": trace = true
            case "--store-db": storeDB = it.next()
            case "--probes": probes = true
            case "--probes-data": probesData = it.next()
            case "--steer": steer = true
            case "--snmf": snmf = true
            case "--snmf-data": snmfData = it.next()
            case "--sae": sae = true
            case "--weights":
                guard let w = it.next().flatMap(WeightFormat.init(rawValue:)) else { fail("--weights takes native or f32") }
                weights = w
            case "--weights-bench": weightsBench = true
            case "--profile-forward": profileForward = Self.positive(it.next(), a)
            case "--profile-hooks":
                profileForward = Self.positive(it.next(), a)
                profileHooks = true
            case "--kernels-bench": kernelsBench = true
            case "--sae-data": saeSettings.data = it.next()
            case "--sae-architecture":
                guard let a = it.next().flatMap(SAEArchitecture.init(rawValue:)) else { fail("--sae-architecture takes standard or topk") }
                saeSettings.architectures = [a]
            case "--sae-latents": saeSettings.latents = Self.positive(it.next(), a)
            case "--sae-k": saeSettings.k = Self.positive(it.next(), a)
            case "--sae-batch": saeSettings.batchSize = Self.positive(it.next(), a)
            case "--sae-steps": saeSettings.steps = Self.positive(it.next(), a)
            case "--sae-repeats": saeSettings.repeats = Self.positive(it.next(), a)
            case "--sae-dead-fraction":
                guard let f = it.next().flatMap(Double.init), (0..<1).contains(f) else { fail("--sae-dead-fraction takes a value in [0, 1)") }
                saeSettings.deadFraction = f
            default: fail("unknown argument \(a)")
            }
        }
    }

    static func positive(_ value: String?, _ option: String) -> Int {
        guard let n = value.flatMap(Int.init), n > 0 else { fail("\(option) takes a positive integer") }
        return n
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

/// Median wall time of `runs` calls after one warm-up.
func time(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var t: [Double] = []
    for _ in 0..<runs {
        let s = DispatchTime.now().uptimeNanoseconds
        try body()
        t.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
    }
    return t.sorted()[t.count / 2]
}

let args = Args()
BLAS.letIdleThreadsSleep()  // as the loupe CLI does
ProcessMemory.reuseFreedBlocks()  // likewise
if let n = args.threads { BLAS.setThreadCount(n) }
nonisolated(unsafe) var results: [String: Double] = [:]
func report(_ key: String, _ value: Double, _ line: String) {
    results[key] = value
    print(line)
}

print("threads: \(BLAS.threadCount), OpenBLAS kernels: \(BLAS.coreName) (OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "-")), "
      + "many-row products: \(ProductKernel.chosen.rawValue)")
if args.kernelsBench {
    // Only the in-place kernels per kernel set (KernelsBench.swift); needs no model.
    try kernelsBenchmark()
    exit(0)
}

// sgemm rate on a large square product and on the model's own MLP products (128 rows: a prompt;
// 550: one layer of causal-trace runs on the Eiffel prompt).
for (m, n, k) in [(1024, 1024, 1024), (128, 1536, 576), (550, 1536, 576), (550, 576, 1536)] {
    let a = FloatBuffer(count: m * k), b = FloatBuffer(count: n * k), c = FloatBuffer(count: m * n)
    let secs = time(runs: 10) { BLAS.gemmTransposedB(m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer) }
    let gflops = 2 * Double(m * n * k) / secs / 1e9
    report("sgemm_\(m)x\(n)x\(k)_gflops", gflops, String(format: "sgemm %dx%dx%d: %.1f GFLOP/s", m, n, k, gflops))
}

if args.snmf {
    // Only semi-NMF iterations (SNMFBench.swift); needs no model.
    try snmfBenchmark(data: args.snmfData, iterations: args.quick ? 6 : 21, report: report)
    if let path = args.json {
        try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
    exit(0)
}
if args.probes {
    // Only the probe-fitting benchmark (ProbeBench.swift); needs no model.
    try probeBenchmark(data: args.probesData, report: report)
    exit(0)
}

if args.sae {
    // Only SAE training steps (SAEBench.swift); needs no model.
    try saeBenchmark(args.saeSettings, report: report) { key, value in results[key] = value }
    if let path = args.json {
        try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
    exit(0)
}

if args.weightsBench {
    // Only one round of the weight-format comparison (WeightsBench.swift; bench/weights_compare.sh).
    try weightsBenchmark(path: args.model, weights: args.weights)
    exit(0)
}

let loaded = try ModelLoader.load(path: args.model, weights: args.weights)
if let n = args.profileForward {
    // Only forward passes of n random tokens for about 20 s, for `perf record`; with
    // --profile-hooks, every hook point captured into a cache emptied before each pass.
    var rng = SeededRandom(seed: 1)
    let tokens = (0..<n).map { _ in Int(rng.next() % UInt64(loaded.transformer.config.vocabSize)) }
    let cache = ActivationCache()
    var hooks = HookSet()
    if args.profileHooks { hooks.capture(loaded.transformer.config.hookPoints, into: cache) }
    let start = DispatchTime.now().uptimeNanoseconds
    var times: [Double] = []
    while DispatchTime.now().uptimeNanoseconds - start < 20_000_000_000 {
        let s = DispatchTime.now().uptimeNanoseconds
        cache.removeAll()
        _ = try loaded.transformer.forward([tokens], hooks: hooks)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6)
    }
    let sorted = times.sorted()
    print(String(format: "forward %d tokens%@: %.1f ms per pass over %d passes (median %.1f, first %.1f, last %.1f)",
                 n, args.profileHooks ? ", every hook captured" : "", times.reduce(0, +) / Double(times.count), times.count,
                 sorted[sorted.count / 2], times[0], times[times.count - 1]))
    exit(0)
}
if args.store {
    // Only the activation store's benchmarks (StoreBench.swift).
    try storeBenchmark(loaded, quick: args.quick, storeDB: args.storeDB, report: report)
    if let path = args.json {
        try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
    exit(0)
}
if args.trace {
    try traceBenchmark(loaded, quick: args.quick, report: report)
    if let path = args.json {
        try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
    exit(0)
}
if args.steer {
    // Only steered vs unsteered generation (SteerBench.swift).
    try steerBenchmark(loaded, report: report)
    if let path = args.json {
        try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
    exit(0)
}
let model = loaded.transformer, c = model.config
report("load_seconds", loaded.loadSeconds, String(format: "load %@: %.2f s", loaded.config.name, loaded.loadSeconds))

/// Useful FLOPs of a pass over `n` tokens with last-row logits.
func flops(_ n: Int) -> Double {
    let qw = c.nHeads * c.headDim, kvw = c.nKVHeads * c.headDim
    let mlpMats = c.mlpKind == .swiGLU ? 3 : 2
    let perToken = Double(c.dModel * qw * 2 + c.dModel * kvw * 2 + mlpMats * c.dModel * c.dMLP)
    let attention = Double(n * (n + 1) / 2 * c.headDim * c.nHeads * 2)
    return 2 * (Double(c.nLayers) * (Double(n) * perToken + attention) + Double(c.vocabSize * c.dModel))
}

// Tokenizer: encode speed on English text (README and docs), word cache cold then warm.
let sample = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Sources/loupe-bench/main.swift", with: "docs/ARCHITECTURE.md"), encoding: .utf8)
var text = ""
while text.utf8.count < 2_000_000 { text += sample }
for pass in ["cold", "warm"] {
    let s = DispatchTime.now().uptimeNanoseconds
    let ids = try loaded.tokenizer.encode(text)
    let secs = Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
    let rate = Double(text.utf8.count) / secs / 1e6
    report("tokenize_\(pass)_mb_per_s", rate, String(format: "tokenize (%@ cache): %.2f MB/s, %d tokens", pass, rate, ids.count))
}

var rng = SeededRandom(seed: 1)
for n in args.quick ? [16, 128] : [16, 128, 512] {
    let tokens = (0..<n).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
    let runs = n >= 512 ? 3 : 10
    let plain = try time(runs: runs) { _ = try model.forward([tokens]) }
    var all = HookSet()
    let cache = ActivationCache()
    all.capture(c.hookPoints, into: cache)
    let hooked = try time(runs: runs) { cache.removeAll(); _ = try model.forward([tokens], hooks: all) }
    var one = HookSet()
    one.observe(.finalNorm) { _, _ in }
    let oneHook = try time(runs: runs) { _ = try model.forward([tokens], hooks: one) }
    let gflops = flops(n) / plain / 1e9
    report("forward_\(n)_ms", plain * 1e3, String(format:
        "forward %4d tokens: %7.1f ms  %8.0f tokens/s  %6.1f GFLOP/s | all %d hooks captured: %7.1f ms (%.2fx) | one hook: %7.1f ms",
        n, plain * 1e3, Double(n) / plain, gflops, c.hookPoints.count, hooked * 1e3, hooked / plain, oneHook * 1e3))
    results["forward_\(n)_gflops"] = gflops
    results["forward_\(n)_all_hooks_ms"] = hooked * 1e3
    results["forward_\(n)_one_hook_ms"] = oneHook * 1e3
}

// Greedy generation, 64 new tokens after a 16-token prompt.
let prompt = (0..<16).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
var gen = try model.generate(prompt: prompt, maxNewTokens: 64)
gen = try model.generate(prompt: prompt, maxNewTokens: 64)
let weightBytes = Double(model.parameterCount * 4)
report("generate_tokens_per_s", gen.tokensPerSecond, String(format:
    "generate: %.1f tokens/s (greedy, 64 tokens, KV cache); float32 weights %.0f MB read per token",
    gen.tokensPerSecond, weightBytes / 1e6))

if let path = args.json {
    let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
}
