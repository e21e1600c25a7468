import Foundation
import Models
import Probes

extension SteeringProbe {
    /// The probe as a concept score for `steer apply|sweep --probe`: per prompt, its
    /// probability of ``className`` from the row at the probe's hook at the last position
    /// (read with the steering active). Difference-of-means probes give a sigmoid/softmax of
    /// their scores, which orders prompts but is not calibrated; the name says so.
    public func readout() -> ConceptReadout {
        let probe = file.probe, index = classIndex
        let name = "probe p(\(className))" + (probe.link == .logistic ? "" : " (uncalibrated)")
        return ConceptReadout(name: name, hook: file.hook, width: probe.width) { x, rows in
            probe.probabilities(x, rows: rows).map { $0[index] }
        }
    }

    /// Progress notes when the probe is read where it was not fitted, or where steering cannot reach it.
    public func warnings(probePoint: HookPoint, steered: [HookPoint]) -> [String] {
        var out: [String] = []
        if file.position != .last {
            out.append("note: the probe was fitted at position '\(file.position.rawValue)'; its score here is read at the last position")
        }
        if let pl = probePoint.layer, !steered.isEmpty, steered.allSatisfy({ ($0.layer ?? -1) > pl }) {
            out.append("note: every steered layer is above the probe's layer \(pl): its score cannot change")
        }
        return out
    }
}
