import Foundation
import Models

/// One transcoder per layer, replacing every MLP of a model: the set an attribution graph reads.
///
/// On disk (the layout `loupe sae train` writes per layer and the set trainer writes whole):
/// `DIR/transcoders.json` = `{"model": name, "input_hook": "blocks.{L}.mlp.hook_in",
/// "output_hook": "blocks.{L}.hook_mlp_out", "layers": [0, 1, ...]}` and `DIR/layer-<L>/` one
/// SAELens transcoder folder (``SAEFolder``) per layer, whose `metadata.hook_name` and
/// `hook_name_out` are the hooks with `{L}` filled in. Layers may differ in architecture and in
/// whether they have a `W_skip` term; all must read `mlp.hook_in` (the MLP input after the
/// norm's weight, circuit-tracer's `feature_input_hook`) and write `hook_mlp_out`.
public struct TranscoderSet: Sendable {
    /// The model name the set was trained on (may be empty).
    public let modelName: String
    /// The transcoder of layer `L` at index `L`.
    public let transcoders: [any SparseAutoencoder]
    /// The folder it was read from.
    public let directory: String

    public static let manifestName = "transcoders.json"
    public static let inputHookTemplate = "blocks.{L}.mlp.hook_in"
    public static let outputHookTemplate = "blocks.{L}.hook_mlp_out"

    /// A set from transcoders in layer order (tests, and sets built in memory).
    public init(transcoders: [any SparseAutoencoder], modelName: String = "", directory: String = "<memory>") {
        self.transcoders = transcoders
        self.modelName = modelName
        self.directory = directory
    }

    /// Reads `directory`, checking the manifest and every layer's folder.
    /// - Throws: ``GraphError/badTranscoderSet(file:reason:)`` naming the file and field at fault,
    ///   or the ``SAEError`` of a layer folder that does not load.
    public static func load(_ directory: String) throws -> TranscoderSet {
        let path = directory + "/" + manifestName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GraphError.badTranscoderSet(file: path, reason: "cannot read it (is \(directory) a transcoder set folder?)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw GraphError.badTranscoderSet(file: path, reason: "is not a JSON object")
        }
        for (key, want) in [("input_hook", inputHookTemplate), ("output_hook", outputHookTemplate)] {
            guard let got = json[key] as? String else { throw GraphError.badTranscoderSet(file: path, reason: "field '\(key)' is missing or not a string") }
            guard got == want else {
                throw GraphError.badTranscoderSet(file: path, reason: "field '\(key)' is '\(got)'; attribution graphs need transcoders from '\(inputHookTemplate)' to '\(outputHookTemplate)'")
            }
        }
        guard let layerValues = json["layers"] as? [Any], !layerValues.isEmpty else {
            throw GraphError.badTranscoderSet(file: path, reason: "field 'layers' is missing, empty or not a list")
        }
        let layers = try layerValues.map { v -> Int in
            // (On Linux a JSON 0 or 1 also reads as a Bool, so numbers are taken as they come.)
            guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue), i >= 0 else {
                throw GraphError.badTranscoderSet(file: path, reason: "field 'layers' holds \(v), expected layer numbers")
            }
            return i
        }
        guard layers == Array(0..<layers.count) else {
            throw GraphError.badTranscoderSet(file: path, reason: "field 'layers' is \(layers); a set needs every layer 0..<n in order, one transcoder per MLP")
        }
        var transcoders: [any SparseAutoencoder] = []
        for layer in layers {
            let folder = "\(directory)/layer-\(layer)"
            guard FileManager.default.fileExists(atPath: folder + "/" + SAEFolder.configName) else {
                throw GraphError.badTranscoderSet(file: folder, reason: "layer \(layer) is listed in \(manifestName) but its folder (cfg.json) is missing")
            }
            let (sae, metadata) = try SAEFolder.load(folder)
            guard sae.isTranscoder else {
                throw GraphError.badTranscoderSet(file: folder, reason: "holds an SAE (architecture \(sae.architecture)), not a transcoder")
            }
            let hookIn = inputHookTemplate.replacingOccurrences(of: "{L}", with: String(layer))
            let hookOut = outputHookTemplate.replacingOccurrences(of: "{L}", with: String(layer))
            if !metadata.hookName.isEmpty, metadata.hookName != hookIn {
                throw GraphError.badTranscoderSet(file: folder, reason: "reads '\(metadata.hookName)', but layer \(layer) of the set must read '\(hookIn)'")
            }
            if let out = metadata.hookNameOut, !out.isEmpty, out != hookOut {
                throw GraphError.badTranscoderSet(file: folder, reason: "writes '\(out)', but layer \(layer) of the set must write '\(hookOut)'")
            }
            transcoders.append(sae)
        }
        return TranscoderSet(transcoders: transcoders, modelName: json["model"] as? String ?? "", directory: directory)
    }

    /// Checks the set against `config`: one transcoder per layer, each `d_model` wide, and the
    /// same model name (compared without case) when the set names one.
    /// - Throws: ``GraphError/modelMismatch(_:)`` saying what differs.
    public func check(against config: TransformerConfig) throws {
        if !modelName.isEmpty, !config.name.isEmpty, modelName.lowercased() != config.name.lowercased() {
            throw GraphError.modelMismatch("the transcoder set \(directory) was trained on '\(modelName)', but the model is '\(config.name)'")
        }
        guard transcoders.count == config.nLayers else {
            throw GraphError.modelMismatch("the transcoder set \(directory) has \(transcoders.count) layers, but the model has \(config.nLayers): attribution needs one transcoder per MLP")
        }
        for (layer, t) in transcoders.enumerated() where t.width != config.dModel {
            throw GraphError.modelMismatch("layer \(layer) of the transcoder set \(directory) reads rows of width \(t.width), but the model's d_model is \(config.dModel)")
        }
    }
}
