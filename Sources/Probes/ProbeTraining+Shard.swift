import Foundation
import Models
import Store

/// What makes two sharded probe trainings the same job: the store's model, the dataset,
/// label and read position, the capture read at each hook, the hooks in order and the
/// experiment's every setting. Shards of one job merge; anything else is refused.
public struct ProbeJob: ShardedJob {
    public static let analysisName = "probe-train"
    public static let itemNoun = "hooks"
    /// The model of the first hook's capture (what the report names) and its hash.
    public var model: String
    public var modelHash: String
    /// The store as given (informational, not compared: shards may read copies of it).
    public var store: String
    public var dataset: String
    public var label: String
    public var word: String?
    public var position: ReadPosition
    /// The hook points, in report order, and the capture each is read from.
    public var hooks: [String]
    public var captures: [Int64]
    public var experiment: ProbeExperiment
    /// The regularization as the command line put it (e.g. `C 1`, `C by CV`), for the table.
    public var regularization: String

    /// Everything compared, hashed and shortened.
    public var id: String {
        var job = self
        job.store = ""
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var hash = ContentHash()
        hash.combine(String(decoding: (try? e.encode(job)) ?? Data(), as: UTF8.self))
        return String(hash.hex.prefix(12))
    }

    /// Equal in everything but the store's path.
    public func sameJob(as other: ProbeJob) -> Bool {
        var a = self, b = other
        (a.store, b.store) = ("", "")
        return a.id == b.id
    }

    /// The report one process writes, from every hook's result in job order.
    public func report(_ results: [ProbeHookResult]) -> ProbeReport {
        ProbeReport(model: model, modelHash: modelHash, dataset: dataset, label: label, position: position,
                    options: experiment.options,
                    layers: zip(hooks, results).map { ProbeReport.Layer(hook: $0, layer: HookPoint(name: $0)?.layer, result: $1.result) },
                    classes: results.last?.classes ?? [], examples: results.last?.examples ?? 0)
    }
}

/// One hook's probe experiment with the classes and example count it saw.
public struct ProbeHookResult: Codable, Sendable {
    public var result: ProbeExperiment.Result
    public var classes: [String]
    public var examples: Int
}

/// A sharded probe training's progress: one ``ProbeHookResult`` per hook once fitted.
public typealias ProbeShardFile = ShardFile<ProbeJob, ProbeHookResult>

extension ProbeTraining {
    /// The job of probing `hooks` (each read from the capture `holders` names).
    /// - Throws: ``ProbeError/hookNotCaptured(hook:captured:)`` for a hook no capture holds.
    public func job(hooks: [String], holders: [String: CaptureSummary], regularization: String) throws -> ProbeJob {
        let captures = try hooks.map { hook in
            guard let h = holders[hook] else { throw ProbeError.hookNotCaptured(hook: hook, captured: holders.values.first?.hooks ?? []) }
            return h
        }
        guard let first = captures.first else { throw ProbeError.badOption("no hook points to probe") }
        return ProbeJob(model: first.model, modelHash: first.modelHash, store: store.path, dataset: name, label: label, word: word,
                        position: position, hooks: hooks, captures: captures.map(\.id), experiment: experiment,
                        regularization: regularization)
    }

    /// Fits the hooks of `file`'s shard not fitted yet, in order, calling `done` after each
    /// (to save it: a rerun resumes from the saved file).
    /// - Throws: as ``run(hooks:holders:progress:)``.
    public func train(_ file: inout ProbeShardFile, holders: [String: CaptureSummary], progress: (String) -> Void = { _ in },
                      done: (ProbeShardFile) throws -> Void) throws {
        let hooks = file.job.hooks
        for i in file.todo {
            guard let holder = holders[hooks[i]] else {
                throw ProbeError.hookNotCaptured(hook: hooks[i], captured: holders.values.first?.hooks ?? [])
            }
            let fitted = try fit(hook: hooks[i], holder: holder, progress: progress)
            file.items[i] = fitted
            try done(file)
            progress(String(format: "%d/%d %@: test %.3f, control %.3f", i + 1, hooks.count, hooks[i],
                            fitted.result.testAccuracy, fitted.result.controlAccuracy))
        }
    }
}
