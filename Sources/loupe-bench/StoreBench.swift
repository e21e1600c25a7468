// loupe-bench --store: what capturing into and streaming out of the activation store costs.
//
// Captures blocks.*.hook_resid_post (every layer, every position, f16) of ~10k tokens of
// English text in one batch, and compares the time spent storing (the hooks' copy and f16
// encoding, plus the write transaction) with a plain forward pass over the same batch. Then
// streams each hook's rows back as float32 batches from the warm store.
import Foundation
import Linalg
import Models
import Store

/// CPU seconds used so far by this process (all threads) or by the calling thread. On a
/// machine shared with other work, CPU time is the fairer measure of what an operation costs.
func cpuSeconds(thread: Bool = false) -> Double {
    var t = timespec()
    clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func storeBenchmark(_ loaded: LoadedModel, quick: Bool, storeDB: String?, report: (String, Double, String) -> Void) throws {
    let model = loaded.transformer, c = model.config
    let docs = #filePath.replacingOccurrences(of: "Sources/loupe-bench/StoreBench.swift", with: "")
    var text = ""
    for f in ["README.md", "docs/ARCHITECTURE.md"] { text += (try? String(contentsOfFile: docs + f, encoding: .utf8)) ?? "" }
    // 128-token prompts cut from the text, as many as make the batch.
    let ids = try loaded.tokenizer.encode(text)
    let targetTokens = quick ? 2048 : 10_240
    var prompts: [(record: PromptRecord, tokens: [Int])] = []
    var start = 0
    while prompts.count * 128 < targetTokens {
        if start + 128 > ids.count { start = 0 }
        prompts.append((PromptRecord(text: "window \(prompts.count)", line: prompts.count + 1), Array(ids[start..<(start + 128)])))
        start += 128
    }
    let tokens = prompts.count * 128

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-bench-store-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let hooks = try HookPattern.resolve("blocks.*.hook_resid_post", config: c)
    let identity = try ModelIdentity(of: loaded)

    /// A store at `path` with a capture of every resid_post of `prompts` in `dtype` (made
    /// here unless the file already holds it), and whether it was made here.
    func captured(_ path: String, _ prompts: [(record: PromptRecord, tokens: [Int])], _ dtype: ActivationDType) throws
        -> (ActivationStore, CaptureRecord, Capturer.Progress?) {
        let reuse = FileManager.default.fileExists(atPath: path)
        let store = try ActivationStore(path: path, create: true)
        let modelID = try store.register(identity)
        let data = try store.dataset(name: "bench", source: "README+ARCHITECTURE", encoding: "{}", tokenizerHash: "bench", prompts: prompts)
        let capture = try store.capture(model: modelID, dataset: data.id, hooks: hooks.map(\.name), positions: "all", dtype: dtype)
        if try reuse && store.completedPrompts(capture: capture.id).count == prompts.count { return (store, capture, nil) }
        let capturer = Capturer(model: model, store: store, capture: capture, batchSize: prompts.count, batchTokens: prompts.count * 128)
        let p = try capturer.run(prompts: data.prompts, positions: data.prompts.map { Array(0..<$0.tokens.count) })
        return (store, capture, p)
    }

    let plainStart = DispatchTime.now().uptimeNanoseconds, plainCPU = cpuSeconds()
    let mainPath = storeDB ?? dir.appendingPathComponent("bench.db").path
    let reused = storeDB != nil && FileManager.default.fileExists(atPath: mainPath)
    if !reused { _ = try model.forward(prompts.map(\.tokens), logits: .none) }
    let plain = Double(DispatchTime.now().uptimeNanoseconds - plainStart) / 1e9
    let plainCPUs = cpuSeconds() - plainCPU
    let captureCPU = cpuSeconds()
    let (store, capture, progress) = try captured(mainPath, prompts, .f16)
    let captureCPUs = cpuSeconds() - captureCPU
    if let p = progress {
        report("store_overhead_cpu_fraction", (captureCPUs - plainCPUs) / plainCPUs, String(format:
            "store: CPU time: forward %.2f s, capture (forward + hooks + write) %.2f s: storing costs %.1f%% in CPU time",
            plainCPUs, captureCPUs, 100 * (captureCPUs - plainCPUs) / plainCPUs))
        let storing = (p.forwardSeconds - plain) + p.writeSeconds
        report("store_forward_s", plain, String(format: "store: forward %d tokens (no hooks): %.2f s", tokens, plain))
        report("store_capture_forward_s", p.forwardSeconds, String(format:
            "store: forward with %d hooks encoding f16: %.2f s (+%.2f s), write transaction %.2f s", hooks.count,
            p.forwardSeconds, p.forwardSeconds - plain, p.writeSeconds))
        report("store_overhead_fraction", storing / plain, String(format:
            "store: storing costs %.1f%% of the forward pass (%.2f s of %.2f s)", 100 * storing / plain, storing, plain))
    } else {
        print("store: reusing \(mainPath): reads and sizes only")
    }

    // Streaming reads of every hook, stored and shuffled order, warm (one read first).
    for order in [ActivationReader.Order.stored, .shuffled(seed: 1)] {
        var rows = 0
        func readAll() throws {
            rows = 0
            for hook in hooks {
                var reader = try ActivationReader(store: store, capture: capture, hook: hook.name, batchSize: 4096, order: order)
                while let b = try reader.nextBatch() { rows += b.positions.count }
            }
        }
        try readAll()
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<3 {
            let s = DispatchTime.now().uptimeNanoseconds, cpu = cpuSeconds(thread: true)
            try readAll()
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
            cpus.append(cpuSeconds(thread: true) - cpu)
        }
        let secs = walls.sorted()[1], cpu = cpus.sorted()[1]
        let gbps = Double(rows * c.dModel * 4) / secs / 1e9, cpuGBps = Double(rows * c.dModel * 4) / cpu / 1e9
        let name = order == .stored ? "stored" : "shuffled"
        report("store_read_\(name)_gb_per_s", gbps, String(format:
            "store: streaming read (%@ order, batches of 4096 rows): %.2f GB/s of float32 rows wall, %.2f GB/s per CPU second (%d rows in %.2f s, median of 3)",
            name, gbps, cpuGBps, rows, secs))
        results["store_read_\(name)_gb_per_cpu_s"] = cpuGBps
    }

    // Size per million tokens per hook: activation bytes, and the compacted file (prompts,
    // indexes and page slack included), f16 from the main capture and f32 from a capture of
    // a quarter of the prompts.
    let quarter = Array(prompts.prefix(max(1, prompts.count / 4)))
    let (f32Store, _, _) = try captured(dir.appendingPathComponent("bench-f32.db").path, quarter, .f32)
    for (dtype, s, n) in [("f16", store, tokens), ("f32", f32Store, quarter.count * 128)] {
        let data = Double(try s.captures()[0].bytes)
        let file = Double(try s.vacuum().after)
        let perData = data / Double(n) / Double(hooks.count) * 1e6 / 1e9
        let perFile = file / Double(n) / Double(hooks.count) * 1e6 / 1e9
        report("store_\(dtype)_gb_per_million_tokens_per_hook", perFile, String(format:
            "store: %@: %.3f GB per million tokens per hook on disk (compacted file), %.3f GB of it activation data (d_model %d; %d tokens x %d hooks)",
            dtype, perFile, perData, c.dModel, n, hooks.count))
    }
}
