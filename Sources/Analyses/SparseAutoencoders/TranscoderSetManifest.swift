import Foundation

/// A folder of per-layer transcoders, one model's MLPs replaced layer by layer (what
/// attribution graphs read): `DIR/transcoders.json` names the model, the hook templates and
/// the layers, and `DIR/layer-<L>/` is each layer's ``SAEFolder``. The JSON also carries the
/// training settings and per-layer metrics.
public struct TranscoderSetManifest: Codable, Sendable, Equatable {
    public static let fileName = "transcoders.json"
    public static let inputHookTemplate = "blocks.{L}.mlp.hook_in"
    public static let outputHookTemplate = "blocks.{L}.hook_mlp_out"

    public var model: String
    /// `blocks.{L}.mlp.hook_in`: the input hook, `{L}` standing for the layer.
    public var inputHook: String
    /// `blocks.{L}.hook_mlp_out`.
    public var outputHook: String
    /// Layers with a complete folder, increasing.
    public var layers: [Int]
    /// How the set was trained (settings as text, e.g. `latents`, `k`, `corpus`).
    public var training: [String: String]
    /// Per layer (the key is the layer), what training and the held-out check measured.
    public var metrics: [String: TranscoderLayerMetrics]

    enum CodingKeys: String, CodingKey {
        case model, layers, training, metrics
        case inputHook = "input_hook", outputHook = "output_hook"
    }

    public init(model: String, layers: [Int] = [], training: [String: String] = [:], metrics: [String: TranscoderLayerMetrics] = [:]) {
        self.model = model
        inputHook = Self.inputHookTemplate
        outputHook = Self.outputHookTemplate
        self.layers = layers
        self.training = training
        self.metrics = metrics
    }

    /// Layer `layer`'s folder in `directory`.
    public static func layerFolder(_ directory: String, layer: Int) -> String { directory + "/layer-\(layer)" }

    /// The hook names of `layer`.
    public func hooks(layer: Int) -> (input: String, output: String) {
        (inputHook.replacingOccurrences(of: "{L}", with: String(layer)), outputHook.replacingOccurrences(of: "{L}", with: String(layer)))
    }

    /// Whether `layer`'s folder in `directory` holds a complete transcoder (both files).
    public static func isComplete(_ directory: String, layer: Int) -> Bool {
        let folder = layerFolder(directory, layer: layer)
        return [SAEFolder.configName, SAEFolder.weightsName].allSatisfy { FileManager.default.fileExists(atPath: folder + "/" + $0) }
    }

    /// Reads `directory/transcoders.json`.
    /// - Throws: ``SAEError/badConfig(file:field:reason:)`` when it is missing or malformed.
    public static func load(_ directory: String) throws -> TranscoderSetManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SAEError.badConfig(file: path, field: "(file)", reason: "cannot be read (is \(directory) a transcoder set?)")
        }
        do { return try JSONDecoder().decode(TranscoderSetManifest.self, from: data) } catch {
            throw SAEError.badConfig(file: path, field: "(root)", reason: "is not a transcoder set: \(error)")
        }
    }

    /// Writes `directory/transcoders.json` (atomically) and `directory/summary.txt`.
    public func save(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: directory + "/" + Self.fileName), options: .atomic)
        try summary().joined(separator: "\n").appending("\n")
            .write(toFile: directory + "/summary.txt", atomically: true, encoding: .utf8)
    }

    /// The lines of `summary.txt`: settings, then one row per layer. Without `timings` the
    /// wall-clock settings (`*_seconds`) and the per-layer seconds are left out, so the lines
    /// are the same on every run (what `sae train-transcoders` prints).
    public func summary(timings: Bool = true) -> [String] {
        var out = ["transcoders of \(model): \(inputHook) -> \(outputHook), \(layers.count) layer(s)"]
        for (k, v) in training.sorted(by: { $0.key < $1.key }) where timings || !k.hasSuffix("_seconds") { out.append("  \(k): \(v)") }
        out.append("")
        out.append("layer  train EV  held-out EV  held-out L0  held-out dead  outliers  train dead   tokens  steps" + (timings ? "  train s" : ""))
        func f(_ v: Double?, _ width: Int, _ digits: Int = 3) -> String {
            let text = v.map { String(format: "%.\(digits)f", $0) } ?? "-"
            return String(repeating: " ", count: max(0, width - text.count)) + text
        }
        for layer in layers {
            guard let m = metrics[String(layer)] else { continue }
            out.append([f(Double(layer), 5, 0), f(m.explainedVariance, 8), f(m.heldOutExplainedVariance, 11), f(m.heldOutL0, 11, 1),
                        f(m.heldOutDeadFraction, 13), f(m.heldOutOutliers.map(Double.init), 8, 0), f(m.deadFraction, 10), f(Double(m.tokens), 7, 0),
                        f(Double(m.steps), 5, 0), timings ? f(m.seconds, 7, 0) : nil].compactMap { $0 }.joined(separator: "  "))
        }
        for layer in layers {
            guard let m = metrics[String(layer)], let w = m.heldOutWorst?.first, w.share >= 0.5 else { continue }
            out.append(String(format: "layer %d: %.0f%% of the held-out squared error is one row (window %d, position %d, token id %d; "
                              + "target norm %.3g, transcoder output norm %.3g)", layer, 100 * w.share, w.window, w.position, w.token, w.targetNorm, w.outputNorm))
        }
        return out
    }
}

/// A held-out row of a transcoder's measurement: where it is (window index among the
/// held-out windows, position, token id), its squared error, that error's share of the total,
/// and the norms of the target and of the transcoder's output.
public struct HeldOutRow: Codable, Sendable, Equatable {
    public var window: Int, position: Int, token: Int
    public var squaredError: Double
    public var share = 0.0
    public var targetNorm: Double, outputNorm: Double

    enum CodingKeys: String, CodingKey {
        case window, position, token, share
        case squaredError = "squared_error", targetNorm = "target_norm", outputNorm = "output_norm"
    }

    public init(window: Int, position: Int, token: Int, squaredError: Double, targetNorm: Double, outputNorm: Double) {
        (self.window, self.position, self.token, self.squaredError, self.targetNorm, self.outputNorm) = (window, position, token, squaredError, targetNorm, outputNorm)
    }
}

/// One layer's numbers: from training (the last progress window: explained variance of the
/// MLP output on training batches, L0, the fraction of latents dead in the dead window) and,
/// when held-out windows were given, the same on them (dead: never fired there).
public struct TranscoderLayerMetrics: Codable, Sendable, Equatable {
    public var explainedVariance: Double
    public var l0: Double
    public var deadFraction: Double
    public var tokens: Int
    public var steps: Int
    /// Seconds in this layer's training steps (the shared forward passes not included).
    public var seconds: Double
    public var skipped: [String: Int]
    public var heldOutExplainedVariance: Double?
    public var heldOutL0: Double?
    public var heldOutDeadFraction: Double?
    public var heldOutTokens: Int?
    /// Held-out rows the outlier rule left out (nil in sets measured before the rule applied there).
    public var heldOutOutliers: Int?
    /// The held-out rows with the largest squared error (where a poor explained variance comes from).
    public var heldOutWorst: [HeldOutRow]?

    enum CodingKeys: String, CodingKey {
        case l0, tokens, steps, seconds, skipped
        case explainedVariance = "explained_variance", deadFraction = "dead_fraction"
        case heldOutExplainedVariance = "held_out_explained_variance", heldOutL0 = "held_out_l0"
        case heldOutDeadFraction = "held_out_dead_fraction", heldOutTokens = "held_out_tokens", heldOutOutliers = "held_out_outliers"
        case heldOutWorst = "held_out_worst"
    }

    public init(explainedVariance: Double, l0: Double, deadFraction: Double, tokens: Int, steps: Int, seconds: Double, skipped: [String: Int]) {
        self.explainedVariance = explainedVariance
        self.l0 = l0
        self.deadFraction = deadFraction
        self.tokens = tokens
        self.steps = steps
        self.seconds = seconds
        self.skipped = skipped
    }
}
