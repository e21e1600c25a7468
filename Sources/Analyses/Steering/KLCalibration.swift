import Models

/// Finds the strength whose fluency cost is a target: the raw scale at which the mean
/// next-token `KL(unsteered || steered)` on neutral text (``SteeringMeasures/klOnNeutral(_:)``)
/// equals `target` nats, by bracketing (doubling a multiple of the activation norm from
/// 1/8) and then bisecting. KL grows with the scale in practice; the search assumes it.
public struct KLCalibration {
    public var measures: SteeringMeasures
    /// Bisection steps after bracketing.
    public var steps = 12
    /// The largest multiple of the typical norm tried.
    public var maxMultiple = 64.0

    public init(measures: SteeringMeasures) { self.measures = measures }

    /// The scale (as for ``SteeringIntervention/scale``) and the KL it reaches.
    /// `intervention.scale` is ignored; `typicalNorm` is the hook's row norm.
    public func calibrate(_ intervention: SteeringIntervention, typicalNorm: Double, target: Double) throws -> (scale: Double, kl: Double) {
        guard target > 0 else { return (0, 0) }
        let vn = intervention.direction.norm
        guard vn > 0 else { throw SteeringError.invalid("cannot calibrate a zero vector") }
        func kl(_ multiple: Double) throws -> Double {
            var i = intervention
            i.scale = multiple * typicalNorm / vn
            return try measures.klOnNeutral(SteeringMeasures.measurementHooks([i]))
        }
        var lo = 0.0, hi = 0.125
        var klHi = try kl(hi)
        while klHi < target {
            lo = hi
            hi *= 2
            if hi > maxMultiple { throw SteeringError.calibrationFailed(target: target, reached: klHi, scale: lo * typicalNorm / vn) }
            klHi = try kl(hi)
        }
        for _ in 0..<steps {
            let mid = (lo + hi) / 2
            let k = try kl(mid)
            if k < target { lo = mid } else { hi = mid; klHi = k }
        }
        return (hi * typicalNorm / vn, klHi)
    }
}
