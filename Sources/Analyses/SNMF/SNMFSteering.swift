import Models
import Tokenizers

/// Steering with one SNMF feature (`loupe snmf steer`), as Shafran et al. (2025) do: the
/// feature's direction added during generation, its strength found by binary search
/// (``KLCalibration``) so that the next-token KL divergence on a base prompt (the paper's
/// "I think that") reaches each target (the paper uses 0.025 to 0.5 nats).
public struct SNMFSteering {
    /// Where the direction is added.
    public enum Point: String, Sendable, CaseIterable, Codable {
        /// The unit neuron group z at the fitted hook (`blocks.L.mlp.hook_post` for an MLP fit).
        case post
        /// Its residual image `W_down z` at `blocks.L.hook_resid_post` (MLP fits only).
        case resid
    }

    public let source: SNMFFeatureSource
    public let point: Point

    /// - Throws: ``SNMFError`` when the feature is not in the file.
    public init(file: SNMFFile, path: String, feature: Int, at point: Point) throws {
        source = try SNMFFeatureSource(file: file, path: path, feature: feature)
        self.point = point
    }

    /// The hook the direction is added at, for `config`'s model.
    /// - Throws: ``SNMFError`` when the fit read no hook of the model, or `resid` is asked of
    ///   a fit that is not of `blocks.L.mlp.hook_post`.
    public func hook(in config: TransformerConfig) throws -> HookPoint {
        guard let fitted = source.fittedPoint, (try? config.hookPoint(named: fitted.name)) != nil else {
            throw SNMFError.invalidSetting("\(source.path) factorized \(source.file.hook ?? "rows without a hook (--input)"), not a hook of \(config.name): no direction to steer with")
        }
        switch (point, fitted) {
        case (.post, _): return fitted
        case (.resid, .mlpPost(let layer)): return .residPost(layer)
        case (.resid, _): throw SNMFError.invalidSetting("--at resid needs a fit of blocks.L.mlp.hook_post; \(source.path) factorized \(fitted.name)")
        }
    }

    /// The feature's steering direction (kind `snmf-feature`, as `steer derive --snmf` makes).
    public func direction(model: Transformer, tokenizer: Tokenizer, modelName: String) throws -> SteeringDirection {
        try source.direction(in: DerivationContext(model: model, tokenizer: tokenizer, hook: try hook(in: model.config), modelName: modelName))
    }

    /// Generation with `direction` at each target KL on `base` (greedy unless `sampling` says
    /// otherwise), unsteered beside it, for each of `prompts`.
    /// - Throws: ``SteeringError`` when a target cannot be reached or the text is too short.
    public static func run(direction: SteeringDirection, model: Transformer, tokenizer: Tokenizer, targets: [Double],
                           base: String, prompts: [String], conceptTokens: [Int] = [], maxNewTokens: Int = 24,
                           sampling: SamplingParameters = .greedy,
                           progress: ((String) -> Void)? = nil) throws -> SteeringExperiment.Result {
        guard !targets.isEmpty, targets.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw SteeringError.invalid("target KLs must be finite and > 0; got \(targets)")
        }
        let experiment = SteeringExperiment(model: model, tokenizer: tokenizer, directions: [direction], strengths: targets.map { .targetKL($0) },
                                            sampling: sampling, maxNewTokens: maxNewTokens, stopTokens: Set(tokenizer.eogIDs))
        return try experiment.run(prompts: prompts, neutral: [base], conceptTokens: conceptTokens, progress: progress)
    }
}
