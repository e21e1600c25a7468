import Analyses
import Foundation
import Models
import Probes

/// A saved probe (`loupe probe train`) chosen for steering: its file and the class whose
/// weights and probability are used (`--probe FILE [--class NAME]`).
///
/// `Analyses` does not import `Probes`, so this glue lives here, as `Steer+Store.swift` does
/// for stores.
struct SteeringProbe {
    let path: String
    let file: ProbeFile
    /// The class whose direction and probability are used.
    let className: String
    /// Index of ``className`` in the probe's classes.
    let classIndex: Int

    /// Loads `path` and picks the class: for a binary probe `className` or, by default, its
    /// positive class (`classes[1]`, whose log-odds the score is); for K > 2 classes
    /// `className` is required.
    /// - Throws: ``ProbeError/badFile(path:reason:)`` when the file does not parse;
    ///   ``SteeringError/unusableProbe(path:reason:)`` for a ridge probe, a multinomial probe
    ///   without `className`, or a class the probe does not have.
    init(path: String, className: String?) throws {
        let file = try ProbeFile.load(path)
        let probe = file.probe
        if probe.kind == .ridge {
            throw SteeringError.unusableProbe(path: path, reason: "it is a ridge probe (a regression on ±1 targets): its scores are not class probabilities; train a logistic or diffmeans probe (loupe probe train --kind logistic)")
        }
        let index: Int
        if let className {
            guard let i = probe.classes.firstIndex(of: className) else {
                throw SteeringError.unusableProbe(path: path, reason: "it has no class '\(className)' (classes: \(probe.classes.joined(separator: ", ")))")
            }
            index = i
        } else if probe.classes.count == 2 {
            index = 1
        } else {
            throw SteeringError.unusableProbe(path: path, reason: "it has \(probe.classes.count) classes (\(probe.classes.joined(separator: ", "))): choose one with --class NAME")
        }
        self.path = path
        self.file = file
        self.className = probe.classes[index]
        self.classIndex = index
    }

    /// The class's weight vector in raw activation space (standardization folded in): a
    /// binary probe's weight row for its positive class, its negation for the other class;
    /// a multinomial probe's row of the class.
    var vector: [Float] {
        let w = file.probe.weights
        if w.count == 1 { return classIndex == 1 ? w[0] : w[0].map { -$0 } }
        return w[classIndex]
    }

    /// The probe's hook in `config`, checked to be as wide as the probe.
    /// - Throws: ``ModelError`` for an unknown hook, ``SteeringError/unusableProbe(path:reason:)`` for a width mismatch or an attention-pattern hook.
    func hookPoint(in config: TransformerConfig) throws -> HookPoint {
        // The same checks as the probe's concept score, with the probe's path in the error.
        do {
            return try readout().hookPoint(in: config)
        } catch SteeringError.invalid(let reason) {
            throw SteeringError.unusableProbe(path: path, reason: "\(reason) (fitted on \(file.model))")
        } catch SteeringError.unsupportedHook(let hook) {
            throw SteeringError.unusableProbe(path: path, reason: "it reads attention patterns (\(hook)), which have no fixed row width to steer or score")
        }
    }
}

/// A saved probe's weight vector as a steering direction (`loupe steer derive --probe`), at
/// the probe's own hook.
struct ProbeDirectionSource: DirectionSource {
    let probe: SteeringProbe
    var kind: DirectionSourceKind { .probe }

    func direction(in context: DerivationContext) throws -> SteeringDirection {
        let point = try probe.hookPoint(in: context.model.config)
        guard point == context.hook else {
            throw SteeringError.unusableProbe(path: probe.path, reason: "it reads \(probe.file.hook), not \(context.hook.name): a probe's direction belongs to its own hook")
        }
        let v = probe.vector
        var notes = ["probeKind": probe.file.probe.kind.rawValue, "class": probe.className,
                     "classes": probe.file.probe.classes.joined(separator: ","),
                     "probeDataset": probe.file.dataset, "probeLabel": probe.file.label, "probeModel": probe.file.model,
                     "weights": "raw activation space (standardization folded in)"]
        if let acc = probe.file.metrics["testAccuracy"] { notes["testAccuracy"] = String(format: "%.4f", acc) }
        var d = SteeringDirection(vector: v, hook: point.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: probe.path, layer: point.layer,
            norm: 0, positionRule: probe.file.position.rawValue, notes: notes))
        d.provenance.norm = d.norm
        _ = try d.hookPoint(in: context.model.config)
        return d
    }
}
