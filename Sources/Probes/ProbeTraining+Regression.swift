import Models
import Store

extension ProbeTraining {
    /// A ridge probe of the numeric field `target` per hook, in order, each on the rows of the
    /// capture `holders` names (what `loupe probe train --probe ridge --target FIELD` runs).
    /// ``experiment`` is not used; `regression` says how to fit.
    /// - Parameter progress: one line per hook, and a warning for a partial capture.
    /// - Throws: ``ProbeError`` (a hook no capture holds, a missing or non-numeric value, a
    ///   constant target), ``StoreError``.
    public func runRegression(target: String, regression: RegressionExperiment, hooks: [String],
                              holders: [String: CaptureSummary], progress: (String) -> Void = { _ in }) throws -> RegressionReport {
        var layers: [RegressionReport.Layer] = []
        var source: CaptureSummary? = nil, examples = 0
        for (i, hook) in hooks.enumerated() {
            guard let holder = holders[hook] else {
                throw ProbeError.hookNotCaptured(hook: hook, captured: holders.values.first?.hooks ?? [])
            }
            source = source ?? holder
            if holder.promptsDone < holder.promptsTotal {
                progress("warning: capture \(holder.id) holds \(holder.promptsDone) of \(holder.promptsTotal) prompts")
            }
            let data = try ProbeData.loadValues(store: store, capture: holder, hook: hook, position: position,
                                                target: target, word: word)
            examples = data.rows
            let result = try regression.run(data)
            layers.append(RegressionReport.Layer(hook: hook, layer: HookPoint(name: hook)?.layer, result: result))
            progress(String(format: "%d/%d %@: test R² %.3f, control %.3f, alpha %g", i + 1, hooks.count, hook,
                            result.testR2, result.controlR2, result.alpha))
        }
        guard let source else { throw ProbeError.badOption("no hook points to probe") }
        return RegressionReport(model: source.model, dataset: name, target: target, position: position,
                                standardized: regression.standardize, layers: layers, examples: examples)
    }

    /// Each prompt's display name in the dataset (its `name` field, else its text), by prompt
    /// index, for the report's predictions table; empty when the prompts cannot be read.
    public func promptNames() -> [Int: String] {
        guard let definition, let records = try? PromptFile.read(definition.promptsPath) else { return [:] }
        var out: [Int: String] = [:]
        for (i, r) in records.enumerated() { out[i] = r.metadata["name"]?.text ?? r.text }
        return out
    }
}
