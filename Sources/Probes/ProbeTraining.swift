import Foundation
import Reporting
import Models
import Store
import Tokenizers

/// Probes fitted per hook point on a store's activations: which capture holds each hook,
/// capturing the hooks the store lacks, one ``ProbeExperiment`` per hook, and the report with
/// a saved probe per hook. What `loupe probe train` runs.
public struct ProbeTraining {
    public let store: ActivationStore
    /// The dataset definition, when probing a dataset folder (nil: any capture with ``label``).
    public var definition: DatasetDefinition?
    /// The metadata field holding each prompt's class.
    public var label: String
    /// The metadata field with the word the label hinges on (the control task's word types).
    public var word: String?
    public var position: ReadPosition
    /// Read only this capture (nil: the newest that fits, per hook).
    public var captureID: Int64?
    public var experiment: ProbeExperiment

    public init(store: ActivationStore, definition: DatasetDefinition?, label: String, word: String?,
                position: ReadPosition, captureID: Int64? = nil, experiment: ProbeExperiment) {
        self.store = store
        self.definition = definition
        self.label = label
        self.word = word
        self.position = position
        self.captureID = captureID
        self.experiment = experiment
    }

    /// The name reports and saved probes carry: the dataset's, else the label field's.
    public var name: String { definition?.name ?? label }

    /// For each of `hooks`, the newest capture of the dataset at a fitting position that
    /// holds it; hooks no capture holds are absent.
    public func holders(_ hooks: [String]) throws -> [String: CaptureSummary] {
        let fitting = try store.captures().reversed().filter { c in
            (captureID == nil || c.id == captureID!) && (definition == nil || c.dataset == definition!.storedName)
                && position.isProvided(by: c.positions)
        }
        var out: [String: CaptureSummary] = [:]
        for hook in hooks { out[hook] = fitting.first { $0.hooks.contains(hook) } }
        return out
    }

    /// Captures `hooks` for the dataset's prompts through `model` at the positions
    /// ``position`` reads (plain text encoding, f16), into ``store``'s file.
    /// - Throws: ``ProbeError/badOption(_:)`` without a dataset definition (a label alone
    ///   names no prompts); ``StoreError`` from the capture.
    public func capture(_ hooks: [HookPoint], model: LoadedModel) throws {
        guard let definition else { throw ProbeError.badOption("capturing needs a probe dataset definition (its prompts file)") }
        let records = try PromptFile.read(definition.promptsPath)
        let input = try CaptureJob.Input.prompts(records, path: definition.promptsPath, encoding: PromptEncoding(),
                                                 tokenizer: model.tokenizer)
        guard let positions = CapturePositions(position.capturePositions) else {
            throw ProbeError.badOption("cannot capture positions '\(position.capturePositions)'")
        }
        _ = try CaptureJob(storePath: store.path, hooks: hooks, positions: positions).run(input, model: model)
    }

    /// One experiment per hook, in order, each on the rows of the capture `holders` names.
    /// - Parameter progress: one line per hook, and warnings (a partial capture, a fit that
    ///   stopped at the iteration limit).
    /// - Throws: ``ProbeError`` (a hook no capture holds, missing labels, one class, no word
    ///   field for the control task), ``StoreError``.
    public func run(hooks: [String], holders: [String: CaptureSummary],
                    progress: (String) -> Void = { _ in }) throws -> ProbeReport {
        var layers: [ProbeReport.Layer] = []
        var classes: [String] = [], examples = 0
        var source: CaptureSummary? = nil
        for (i, hook) in hooks.enumerated() {
            guard let holder = holders[hook] else {
                throw ProbeError.hookNotCaptured(hook: hook, captured: holders.values.first?.hooks ?? [])
            }
            source = source ?? holder
            let fitted = try fit(hook: hook, holder: holder, progress: progress)
            classes = fitted.classes
            examples = fitted.examples
            layers.append(ProbeReport.Layer(hook: hook, layer: HookPoint(name: hook)?.layer, result: fitted.result))
            progress(String(format: "%d/%d %@: test %.3f, control %.3f", i + 1, hooks.count, hook,
                            fitted.result.testAccuracy, fitted.result.controlAccuracy))
        }
        guard let source else { throw ProbeError.badOption("no hook points to probe") }
        return ProbeReport(model: source.model, modelHash: source.modelHash, dataset: name, label: label,
                           position: position, options: experiment.options, layers: layers, classes: classes, examples: examples)
    }

    /// One hook's experiment on the rows of `holder` (what ``run(hooks:holders:progress:)``
    /// and a shard's ``train(_:holders:progress:done:)`` do per hook).
    public func fit(hook: String, holder: CaptureSummary, progress: (String) -> Void = { _ in }) throws -> ProbeHookResult {
        let m = try ProbeData.load(store: store, capture: holder, hook: hook, position: position, label: label, word: word)
        if experiment.control && Set(m.words).count <= 1 {
            throw ProbeError.badOption("the control task needs the word field '\(word ?? "")' in the prompts' metadata; none has it (name a word field, or skip the control task)")
        }
        if holder.promptsDone < holder.promptsTotal {
            progress("warning: capture \(holder.id) holds \(holder.promptsDone) of \(holder.promptsTotal) prompts")
        }
        let result = try experiment.run(m)
        if !result.converged {
            progress("warning: \(hook): L-BFGS stopped at \(experiment.options.maxIterations) iterations before max|gradient| <= \(experiment.options.tolerance)")
        }
        return ProbeHookResult(result: result, classes: m.classes, examples: m.rows)
    }
}

extension ProbeReport {
    /// The saved probe of one of this report's layers, with its metrics.
    public func probeFile(for l: Layer) -> ProbeFile {
        let r = l.result
        return ProbeFile(model: model, modelHash: modelHash, hook: l.hook, position: position, dataset: dataset,
                         label: label, probe: r.probe,
                         metrics: ["testAccuracy": r.testAccuracy, "trainAccuracy": r.trainAccuracy,
                                   "cvMean": r.cvMean, "cvStd": r.cvStd,
                                   "controlAccuracy": r.controlAccuracy, "selectivity": r.selectivity,
                                   "regularization": r.regularization])
    }

    /// The note on rows left out by `rule`, when any was (the summary's and the table's).
    public func outlierNotes(rule: OutlierRule?) -> [String] {
        let outliers = Set(layers.flatMap(\.result.outlierPrompts)).sorted()
        guard !outliers.isEmpty, let rule else { return [] }
        return ["Outlier rule applied: \(outliers.count) prompt(s) had a row with norm above \(NumberFormat.string(Double(rule.factor)))x the median at some hook and were left out there (prompts \(outliers.prefix(10).map(String.init).joined(separator: ", ")))."]
    }
}
