import Foundation
import Models

/// One SAE latent's decoder row as a steering direction (`loupe steer derive --sae DIR
/// --feature N`, kind `sae-feature`), at the hook the SAE was trained on (its `cfg.json`
/// `metadata.hook_name`). The row is used as stored (TopK keeps decoder rows at unit norm;
/// a standard SAE's rows carry their own norm), so a strength in raw units means "this many
/// times the feature's unit activation".
public struct SAEFeatureSource: DirectionSource {
    public let directory: String
    public let parameters: SAEParameters
    public let metadata: SAEMetadata
    public let architecture: String
    /// Index of the latent.
    public let feature: Int
    public var kind: DirectionSourceKind { .saeFeature }

    /// Loads the SAE folder and checks `feature`.
    /// - Throws: ``SAEError`` for a malformed folder or a latent the SAE does not have.
    public init(directory: String, feature: Int) throws {
        let (sae, metadata) = try SAEFolder.load(directory)
        guard (0..<sae.parameters.latents).contains(feature) else {
            throw SAEError.badSize("\(directory) has \(sae.parameters.latents) latents (0..<\(sae.parameters.latents)), not \(feature)")
        }
        self.directory = directory
        self.parameters = sae.parameters
        self.metadata = metadata
        self.architecture = "\(type(of: sae))"
        self.feature = feature
    }

    /// The hook the SAE's decoder writes, when its metadata names one of the model's hook
    /// points: the hook it reads, or a transcoder's output hook (`metadata.hook_name_out`).
    public var trainedPoint: HookPoint? { HookPoint(name: metadata.hookNameOut ?? metadata.hookName) }

    public func direction(in context: DerivationContext) throws -> SteeringDirection {
        if let trained = trainedPoint, trained != context.hook {
            throw SAEError.badSize("\(directory) was trained on \(trained.name); its decoder rows are directions there, not at \(context.hook.name)")
        }
        let d = parameters.width
        let row = Array(parameters.wDec[(feature * d)..<((feature + 1) * d)])
        let direction = SteeringDirection(vector: row, hook: context.hook.name, provenance: .init(
            source: kind.rawValue, model: context.modelName, dataset: directory, layer: context.hook.layer,
            norm: SteeringMath.norm(row),
            notes: ["feature": String(feature), "latents": String(parameters.latents), "sae": architecture,
                    "trainedHook": metadata.hookName, "saeModel": metadata.modelName]))
        _ = try direction.hookPoint(in: context.model.config)
        return direction
    }
}
