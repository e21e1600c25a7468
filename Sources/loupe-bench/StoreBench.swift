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

func storeBenchmark(_ loaded: LoadedModel, quick: Bool, report: (String, Double, String) -> Void) throws {
    let model = loaded.transformer, c = model.config
    let docs = #filePath.replacingOccurrences(of: "Sources/loupe-bench/StoreBench.swift", with: "")
    var text = ""
    for f in ["README.md", "docs/ARCHITECTURE.md"] { text += (try? String(contentsOfFile: docs + f, encoding: .utf8)) ?? "" }
    // 128-token prompts cut from the text, as many as make the batch.
    let ids = loaded.tokenizer.encode(text)
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
    let store = try ActivationStore(path: dir.appendingPathComponent("bench.db").path, create: true)
    let modelID = try store.register(try ModelIdentity(of: loaded))
    let data = try store.dataset(name: "bench", source: "README+ARCHITECTURE", encoding: "{}", tokenizerHash: "bench", prompts: prompts)
    let hooks = try HookPattern.resolve("blocks.*.hook_resid_post", config: c)
    let capture = try store.capture(model: modelID, dataset: data.id, hooks: hooks.map(\.name), positions: "all", dtype: .f16)

    let plainStart = DispatchTime.now().uptimeNanoseconds, plainCPU = cpuSeconds()
    _ = try model.forward(prompts.map(\.tokens), logits: .none)
    let plain = Double(DispatchTime.now().uptimeNanoseconds - plainStart) / 1e9
    let plainCPUs = cpuSeconds() - plainCPU
    var capturer = Capturer(model: model, store: store, capture: capture, batchSize: prompts.count, batchTokens: tokens)
    capturer.batchTokens = tokens
    let captureCPU = cpuSeconds()
    let p = try capturer.run(prompts: data.prompts, positions: data.prompts.map { Array(0..<$0.tokens.count) })
    let captureCPUs = cpuSeconds() - captureCPU
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
    let bytes = try store.captures()[0].bytes
    let perMillion = Double(bytes) / Double(tokens) / Double(hooks.count) * 1e6 / 1e9
    report("store_gb_per_million_tokens_per_hook", perMillion, String(format:
        "store: %.2f GB per million tokens per hook (f16, d_model %d); file %.0f MB", perMillion, c.dModel,
        Double(store.fileBytes()) / 1e6))

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
        let s = DispatchTime.now().uptimeNanoseconds, cpu = cpuSeconds(thread: true)
        try readAll()
        let secs = Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9, cpus = cpuSeconds(thread: true) - cpu
        let gbps = Double(rows * c.dModel * 4) / secs / 1e9, cpuGBps = Double(rows * c.dModel * 4) / cpus / 1e9
        let name = order == .stored ? "stored" : "shuffled"
        report("store_read_\(name)_gb_per_s", gbps, String(format:
            "store: streaming read (%@ order, batches of 4096 rows): %.2f GB/s of float32 rows wall, %.2f GB/s per CPU second (%d rows in %.2f s)",
            name, gbps, cpuGBps, rows, secs))
        results["store_read_\(name)_gb_per_cpu_s"] = cpuGBps
    }
}
