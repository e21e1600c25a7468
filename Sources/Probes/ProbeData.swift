import Foundation
import Models
import Store

/// Reads probe examples out of an activation store: which capture holds a dataset, and one
/// hook's rows, one per prompt, with labels and words from the prompts' metadata.
public enum ProbeData {
    /// The newest capture of `dataset` (its stored name; nil: any) whose positions provide
    /// `position`. Hooks are not checked here: see ``missingHooks(_:in:)``.
    /// - Throws: ``ProbeError/noCapture(store:reason:)``.
    public static func capture(in store: ActivationStore, dataset: String?, position: ReadPosition,
                               hooks: [String]) throws -> CaptureSummary {
        let all = try store.captures()
        let candidates = all.reversed().filter { (dataset == nil || $0.dataset == dataset) && position.isProvided(by: $0.positions) }
        if let full = candidates.first(where: { Set(hooks).isSubset(of: $0.hooks) }) { return full }
        if let partial = candidates.first { return partial }
        let what = dataset.map { "dataset '\($0)'" } ?? "any dataset"
        throw ProbeError.noCapture(store: store.path, reason:
            "no capture of \(what) at positions \(position.capturePositions) (captures: "
            + (all.isEmpty ? "none" : all.map { "\($0.id) \($0.dataset) \($0.positions)" }.joined(separator: "; "))
            + "); run `loupe capture --positions \(position.capturePositions)` on its prompts, or pass --model")
    }

    /// The hooks of `wanted` that `capture` does not hold.
    public static func missingHooks(_ wanted: [String], in capture: CaptureSummary) -> [String] {
        wanted.filter { !capture.hooks.contains($0) }
    }

    /// One example per prompt of `capture`, read at `position` from `hook`'s rows.
    /// - Parameters:
    ///   - label: the metadata field holding the class (strings, numbers or booleans; as text).
    ///   - word: the metadata field with the control task's word (nil: no words).
    /// - Throws: ``ProbeError/hookNotCaptured(hook:captured:)``, ``ProbeError/missingLabels(field:prompts:)``,
    ///   ``ProbeError/oneClass(label:value:)``, ``StoreError``.
    public static func load(store: ActivationStore, capture: CaptureSummary, hook: String, position: ReadPosition,
                            label: String, word: String?) throws -> FeatureMatrix {
        let p = try pooledRows(store: store, capture: capture, hook: hook, position: position)
        var labels: [String] = [], missing: [Int] = []
        for (meta, prompt) in zip(p.metadata, p.prompts) {
            let value = meta[label]
            if value == nil || value == .null { missing.append(prompt) }
            labels.append(value?.text ?? "")
        }
        if !missing.isEmpty { throw ProbeError.missingLabels(field: label, prompts: missing) }
        let classes = Set(labels)
        if classes.count < 2 { throw ProbeError.oneClass(label: label, value: classes.first ?? "") }
        return FeatureMatrix(x: p.x, rows: p.prompts.count, width: p.width, labelNames: labels,
                             words: p.metadata.map { m in word.flatMap { m[$0]?.text } ?? "" }, prompts: p.prompts)
    }

    /// One pooled row per prompt of `capture` at `hook`, with the prompt's metadata and index.
    static func pooledRows(store: ActivationStore, capture: CaptureSummary, hook: String, position: ReadPosition) throws
        -> (x: [Float], width: Int, metadata: [[String: JSONValue]], prompts: [Int]) {
        guard capture.hooks.contains(hook) else { throw ProbeError.hookNotCaptured(hook: hook, captured: capture.hooks) }
        var reader = try ActivationReader(store: store, capture: try store.capture(id: capture.id), hook: hook,
                                          batchSize: 4096, order: .stored)
        let width = reader.width
        var x: [Float] = [], metadata: [[String: JSONValue]] = [], prompts: [Int] = []
        // Rows of one prompt are consecutive in stored order; collect and reduce them.
        var current: (prompt: Int, meta: [String: JSONValue], rows: [Float], positions: [Int])? = nil
        let rule = position.pooling
        func flush() throws {
            guard let c = current else { return }
            guard let row = rule.pool(c.rows, positions: c.positions, width: width) else {
                throw ProbeError.badOption("prompt \(c.prompt) has no row to average at \(hook) (only position 0, which the mean leaves out); read it at 'last'")
            }
            x += row
            metadata.append(c.meta)
            prompts.append(c.prompt)
            current = nil
        }
        while let batch = try reader.nextBatch() {
            for i in 0..<batch.positions.count {
                let p = batch.promptIndices[i]
                if current?.prompt != p {
                    try flush()
                    current = (p, batch.metadata[i], [], [])
                }
                current!.rows += batch.rows.scalars[(i * width)..<((i + 1) * width)]
                current!.positions.append(batch.positions[i])
            }
        }
        try flush()
        return (x, width, metadata, prompts)
    }
}
