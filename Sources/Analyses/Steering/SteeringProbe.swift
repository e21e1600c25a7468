import Foundation
import Models
import Probes

/// A saved probe (`loupe probe train`) chosen for steering: its file and the class whose
/// weights and probability are used (`--probe FILE [--class NAME]`).
public struct SteeringProbe: Sendable {
    public let path: String
    public let file: ProbeFile
    /// The class whose direction and probability are used.
    public let className: String
    /// Index of ``className`` in the probe's classes.
    public let classIndex: Int

    /// Loads `path` and picks the class: for a binary probe `className` or, by default, its
    /// positive class (`classes[1]`, whose log-odds the score is); for K > 2 classes
    /// `className` is required.
    /// - Throws: ``ProbeError/badFile(path:reason:)`` when the file does not parse;
    ///   ``SteeringError/probeClassNotChosen(path:classes:)`` for a multinomial probe without
    ///   `className`; ``SteeringError/unusableProbe(path:reason:)`` for a ridge probe or a
    ///   class the probe does not have.
    public init(path: String, className: String?) throws {
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
            throw SteeringError.probeClassNotChosen(path: path, classes: probe.classes)
        }
        self.path = path
        self.file = file
        self.className = probe.classes[index]
        self.classIndex = index
    }

    /// The class's weight vector in raw activation space (standardization folded in): a
    /// binary probe's weight row for its positive class, its negation for the other class;
    /// a multinomial probe's row of the class.
    public var vector: [Float] {
        let w = file.probe.weights
        if w.count == 1 { return classIndex == 1 ? w[0] : w[0].map { -$0 } }
        return w[classIndex]
    }

    /// The probe's hook in `config`, checked to be as wide as the probe.
    /// - Throws: ``ModelError`` for an unknown hook, ``SteeringError/unusableProbe(path:reason:)`` for a width mismatch or an attention-pattern hook.
    public func hookPoint(in config: TransformerConfig) throws -> HookPoint {
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
