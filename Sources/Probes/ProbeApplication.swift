import Foundation
import Models
import Store
import Tokenizers

/// A saved probe applied to new prompts through live forward passes: each prompt's rows at
/// the probe's hook, read at the probe's position and pooled as the probe was trained
/// (``ReadPosition/pooling``), then the probe's prediction. What `loupe probe apply` runs.
public struct ProbeApplication {
    public let file: ProbeFile
    public let model: LoadedModel
    public let point: HookPoint

    /// One prompt's reading.
    public struct Prediction: Sendable {
        /// Index into the probe's classes.
        public var predicted: Int
        /// Per class, in the probe's class order.
        public var probabilities: [Double]
        /// The row's norm is above the probe's outlier threshold (it was fitted without such rows).
        public var outlier: Bool
    }

    /// - Throws: ``ModelError`` for a hook the model lacks; ``ProbeError/badFile(path:reason:)``
    ///   when the model's rows at the hook are not as wide as the probe.
    public init(file: ProbeFile, path: String, model: LoadedModel) throws {
        let point = try model.config.hookPoint(named: file.hook)
        let width = model.config.shape(of: point, positions: 1).dropFirst().reduce(1, *)
        guard width == file.probe.width else {
            throw ProbeError.badFile(path: path, reason: "the probe reads \(file.probe.width) values at \(file.hook); this model has \(width)")
        }
        self.file = file
        self.model = model
        self.point = point
    }

    /// A note when the probe was fitted on another model file, else nil.
    public var modelWarning: String? {
        guard let identity = try? ModelIdentity(of: model), identity.fileHash != file.modelHash else { return nil }
        return "warning: the probe was fitted on \(file.model) (hash \(file.modelHash)), this is \(identity.name) (hash \(identity.fileHash))"
    }

    /// The probe's prediction for each prompt, `batchSize` prompts per pass.
    /// - Parameters:
    ///   - tokens: each record's token ids.
    ///   - origin: names the prompts in errors (`file.jsonl`).
    /// - Throws: ``StoreError/badPosition(prompt:reason:)`` for a subject the prompt lacks;
    ///   ``ProbeError/badOption(_:)`` for a one-token prompt read at the mean.
    public func predict(_ records: [PromptRecord], tokens: [[Int]], origin: String, batchSize: Int = 16,
                        progress: (String) -> Void = { _ in }) throws -> [Prediction] {
        precondition(records.count == tokens.count && batchSize > 0)
        let rule = file.position.pooling
        let rows: [[Int]] = try zip(records, tokens).map { r, t in
            switch file.position {
            case .last, .stored: return [t.count - 1]
            case .mean: return Array(0..<t.count)
            case .subject:
                return try CapturePositions.subject.resolve(tokens: t, subject: r.subject, tokenizer: model.tokenizer,
                                                            prompt: "\(origin):\(r.line)")
            }
        }
        let width = file.probe.width
        var x: [Float] = []
        x.reserveCapacity(records.count * width)
        for start in stride(from: 0, to: tokens.count, by: batchSize) {
            let range = start..<min(start + batchSize, tokens.count)
            let cache = ActivationCache()
            var hooks = HookSet()
            hooks.capture([point], into: cache)
            _ = try model.transformer.forward(Array(tokens[range]), hooks: hooks, logits: .none)
            for (s, i) in range.enumerated() {
                let t = cache.tensor(point, sequence: s)!
                let kept = rows[i].flatMap { t.scalars[($0 * width)..<(($0 + 1) * width)] }
                guard let row = rule.pool(kept, positions: rows[i], width: width) else {
                    throw ProbeError.badOption("\(origin):\(records[i].line): the prompt has one token, and the mean leaves out position 0; read it at 'last'")
                }
                x += row
            }
            if tokens.count > batchSize { progress("\(range.upperBound)/\(tokens.count) prompts") }
        }
        let probe = file.probe
        let probabilities = probe.probabilities(x, rows: records.count)
        let predicted = probe.predict(x, rows: records.count)
        let norms = FeatureMatrix(x: x, rows: records.count, width: width, labels: Array(repeating: 0, count: records.count),
                                  classes: ["-"]).rowNorms()
        return records.indices.map { i in
            Prediction(predicted: predicted[i], probabilities: probabilities[i],
                       outlier: probe.outlierNorm.map { norms[i] > $0 } ?? false)
        }
    }
}
