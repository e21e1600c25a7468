import Foundation

/// Loupe's saved-probe format: one JSON file (`probe-<hook>.json`, `best-probe.json`).
///
///     {
///       "format": "loupe-probe", "version": 1,
///       "model": "...", "modelHash": "...",            // the model whose activations it read
///       "hook": "blocks.9.hook_resid_post", "position": "last",
///       "dataset": "facts-true-false", "label": "label",
///       "probe": {
///         "kind": "logistic", "link": "logistic",     // logistic | ridge | diffmeans; logistic | none
///         "classes": ["false", "true"],
///         "weights": [[...576 floats...]],             // raw activation space, [1 or K][d_model]
///         "bias": [b],                                 // score = x·w + b; binary: log-odds of classes[1]
///         "standardization": {"mean": [...], "scale": [...]},   // already folded in; optional
///         "outlierNorm": 123.4                          // rows above it are outside the training data; optional
///       },
///       "metrics": {"testAccuracy": ..., "controlAccuracy": ..., "selectivity": ..., ...}
///     }
///
/// The weights apply to raw activations (standardization folded in), so `weights[0]` (or a
/// class's row), normalized, is a direction in the residual stream usable for steering.
public struct ProbeFile: Sendable, Codable, Equatable {
    public var format = "loupe-probe"
    public var version = 1
    public var model: String
    public var modelHash: String
    public var hook: String
    public var position: ReadPosition
    public var dataset: String
    public var label: String
    public var probe: LinearProbe
    public var metrics: [String: Double]

    public init(model: String, modelHash: String, hook: String, position: ReadPosition, dataset: String, label: String,
                probe: LinearProbe, metrics: [String: Double]) {
        self.model = model
        self.modelHash = modelHash
        self.hook = hook
        self.position = position
        self.dataset = dataset
        self.label = label
        self.probe = probe
        self.metrics = metrics
    }

    /// The file as pretty, key-sorted JSON (non-finite metrics are left out).
    public func encoded() throws -> Data {
        var copy = self
        copy.metrics = metrics.filter { $0.value.isFinite }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(copy)
    }

    /// Reads a probe file.
    /// - Throws: ``ProbeError/badFile(path:reason:)``.
    public static func load(_ path: String) throws -> ProbeFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProbeError.badFile(path: path, reason: "cannot read the probe file")
        }
        let file: ProbeFile
        do { file = try JSONDecoder().decode(ProbeFile.self, from: data) } catch {
            throw ProbeError.badFile(path: path, reason: "not a Loupe probe file: \(error)")
        }
        guard file.format == "loupe-probe", file.version == 1 else {
            throw ProbeError.badFile(path: path, reason: "format \(file.format) version \(file.version), expected loupe-probe 1")
        }
        let p = file.probe
        let rowsOK = p.weights.count == (p.classes.count == 2 ? 1 : p.classes.count) && p.bias.count == p.weights.count
        guard p.classes.count >= 2, rowsOK, p.weights.allSatisfy({ $0.count == p.width && !$0.isEmpty }) else {
            throw ProbeError.badFile(path: path, reason: "\(p.classes.count) classes, \(p.weights.count) weight rows, \(p.bias.count) biases do not fit together")
        }
        return file
    }
}
