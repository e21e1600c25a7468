import Foundation
import Linalg
import Models

/// One SNMF feature as a steering direction (`loupe steer derive --snmf FILE --feature N`).
///
/// At the hook the factorization read (for MLP features `blocks.L.mlp.hook_post`) the
/// direction is the feature's neuron group z scaled to unit norm. For a fit of
/// `blocks.L.mlp.hook_post`, it can also be asked at `blocks.L.hook_mlp_out` or
/// `blocks.L.hook_resid_post`: there it is the residual image `W_down z` of that unit z
/// (no bias), so adding `s` times it there changes the residual stream exactly as adding
/// `s z` at `hook_post` does.
public struct SNMFFeatureSource: DirectionSource {
    public let file: SNMFFile
    public let path: String
    /// Index of the feature (a row of ``SNMFFile/features``).
    public let feature: Int
    public var kind: DirectionSourceKind { .snmfFeature }

    /// - Throws: ``SNMFError`` when `feature` is not one of the file's features.
    public init(file: SNMFFile, path: String, feature: Int) throws {
        guard file.features.indices.contains(feature) else {
            throw SNMFError.invalidSetting("\(path) has \(file.features.count) features (0..<\(file.features.count)), not \(feature)")
        }
        self.file = file
        self.path = path
        self.feature = feature
    }

    /// The hook the factorization read, when it names one of the model's hook points.
    public var fittedPoint: HookPoint? { file.hook.flatMap(HookPoint.init(name:)) }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        let z = file.features[feature]
        let norm = SteeringMath.norm(z)
        guard norm > 0 else { throw SNMFError.invalidSetting("\(path): feature \(feature) is zero (no neuron kept)") }
        let unit = z.map { Float(Double($0) / norm) }
        var notes = ["feature": String(feature), "rank": String(file.features.count), "snmf": path,
                     "fittedHook": file.hook ?? "(none)"]
        let vector: [Float]
        switch (fittedPoint, context.hook) {
        case (let fitted?, let target) where fitted == target:
            vector = unit
            notes["vector"] = "unit neuron group z"
        case (.mlpPost(let l)?, .mlpOut(let m)), (.mlpPost(let l)?, .residPost(let m)):
            guard l == m else { throw mismatch(context.hook) }
            let wDown = context.model.weights.layers[l].wDown  // [dModel, dMLP]
            guard wDown.shape.count == 2, wDown.shape[1] == unit.count else {
                throw SNMFError.invalidSetting("\(path): feature \(feature) has \(unit.count) neurons; layer \(l)'s MLP has \(wDown.shape.last ?? 0)")
            }
            vector = wDown.multiply(Tensor(shape: [1, unit.count], scalars: unit)).scalars
            notes["vector"] = "residual image W_down z of the unit neuron group"
        default:
            throw mismatch(context.hook)
        }
        let d = SteeringDirection(vector: vector, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: path, layer: context.hook.layer,
            norm: SteeringMath.norm(vector), notes: notes))
        _ = try d.hookPoint(in: context.model.config)
        return d
    }

    private func mismatch(_ hook: HookPoint) -> SNMFError {
        var also = ""
        if case .mlpPost(let l)? = fittedPoint { also = " or its residual image at blocks.\(l).hook_mlp_out / hook_resid_post" }
        return .invalidSetting("\(path) factorized \(file.hook ?? "rows without a hook"); feature \(feature) is a direction there\(also), not at \(hook.name)")
    }
}
