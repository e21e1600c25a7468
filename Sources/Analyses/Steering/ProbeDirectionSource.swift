import Foundation
import Models
import Probes

/// A saved probe's weight vector as a steering direction (`loupe steer derive --probe`), at
/// the probe's own hook.
public struct ProbeDirectionSource: DirectionSource {
    public let probe: SteeringProbe
    public var kind: DirectionSourceKind { .probe }

    public init(probe: SteeringProbe) { self.probe = probe }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
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
