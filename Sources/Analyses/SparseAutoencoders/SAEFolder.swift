import Foundation
import Formats
import Linalg

/// Where an SAE came from, written as `cfg.json`'s `metadata` (SAELens v6 field names).
public struct SAEMetadata: Sendable, Equatable {
    public var hookName: String
    public var modelName: String
    /// Tokens per training context (0 when unknown, e.g. a matrix source).
    public var contextSize: Int
    /// Further string fields (training settings) kept as they are.
    public var extra: [String: String]
    /// A transcoder's output hook (SAELens `hook_name_out`), e.g. `blocks.8.hook_mlp_out`;
    /// `hookName` is its input hook. Nil for a plain SAE.
    public var hookNameOut: String?

    public init(hookName: String = "", modelName: String = "", contextSize: Int = 0, extra: [String: String] = [:],
                hookNameOut: String? = nil) {
        self.hookNameOut = hookNameOut
        self.hookName = hookName
        self.modelName = modelName
        self.contextSize = contextSize
        self.extra = extra
    }
}

/// SAELens's on-disk layout: a folder with `cfg.json` (`d_in`, `d_sae`, `dtype` `float32`,
/// `architecture` `standard`, `topk` with `k` (and, read only, `rescale_acts_by_decoder_norm`,
/// folded into the weights on load), or `jumprelu`, `apply_b_dec_to_input` true,
/// `normalize_activations` `none`, `metadata` {`hook_name`, `model_name`, `context_size`, ...})
/// and `sae_weights.safetensors` (float32 `W_enc` [d_in, d_sae], `W_dec` [d_sae, d_in], `b_enc`,
/// `b_dec`, and for `jumprelu` `threshold` [d_sae]). As SAELens does, BatchTopK and Matryoshka
/// SAEs are saved for inference as `jumprelu` with their global threshold in every latent
/// (`metadata.trained_architecture` names what was trained); they load as ``JumpReLUSAE``.
///
/// Transcoders follow SAELens v6's transcoder classes: `architecture` `transcoder` (ReLU),
/// `jumprelu_transcoder` (JumpReLU, BatchTopK, Matryoshka), with a skip term
/// `skip_transcoder` / `jumprelu_skip_transcoder` and the tensor `W_skip` [d_out, d_in];
/// `d_out`, `apply_b_dec_to_input` false, `metadata.hook_name_out` the output hook. TopK
/// transcoders, which SAELens lacks, are `topk_transcoder` / `topk_skip_transcoder` with `k`
/// (Loupe's names). For circuit-tracer's single-layer transcoder loader the config also
/// carries `feature_input_hook`, `feature_output_hook` and `activation_function`
/// (`relu`, `jump_relu`, `topk`).
public enum SAEFolder {
    public static let configName = "cfg.json"
    public static let weightsName = "sae_weights.safetensors"

    /// Writes `sae` into `directory` (created if needed).
    /// - Throws: ``FormatError`` or a file-system error when the folder cannot be written.
    public static func save(_ sae: any SparseAutoencoder, metadata: SAEMetadata, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let p = sae.parameters
        var meta: [String: Any] = [:]
        for (k, v) in metadata.extra { meta[k] = v }
        meta["hook_name"] = metadata.hookName
        meta["model_name"] = metadata.modelName
        meta["context_size"] = metadata.contextSize
        if let out = metadata.hookNameOut { meta["hook_name_out"] = out }
        let saved = sae.inferenceThreshold == nil ? sae.architecture : "jumprelu"
        var cfg: [String: Any] = ["d_in": p.width, "d_sae": p.latents, "dtype": "float32", "device": "cpu",
                                  "architecture": p.isTranscoder ? transcoderArchitecture(saved, skip: p.hasSkip) : saved,
                                  "apply_b_dec_to_input": !p.isTranscoder, "normalize_activations": "none", "metadata": meta]
        if p.isTranscoder {
            cfg["d_out"] = p.outputWidth
            cfg["feature_input_hook"] = metadata.hookName
            cfg["feature_output_hook"] = metadata.hookNameOut ?? ""
            cfg["activation_function"] = ["standard": "relu", "jumprelu": "jump_relu", "topk": "topk"][saved] ?? saved
        }
        if let topk = sae as? TopKSAE { cfg["k"] = topk.k }
        if sae.inferenceThreshold != nil, sae.architecture != "jumprelu" {
            meta["trained_architecture"] = sae.architecture
            if let b = (sae as? BatchTopKSAE) ?? (sae as? MatryoshkaSAE)?.base { meta["batchtopk_k"] = b.k }
            if let m = sae as? MatryoshkaSAE { meta["matryoshka_widths"] = m.widths.map(String.init).joined(separator: ",") }
            cfg["metadata"] = meta
        }
        // SAELens reads a cfg.json without `metadata.sae_lens_version` as pre-6.0, keeping only
        // top-level metadata keys: these are written at both places.
        for key in ["hook_name", "model_name", "context_size"] { cfg[key] = meta[key] }
        let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: directory + "/" + configName), options: .atomic)
        var tensors: [SafetensorsEncoder.Tensor32] = [
            .init(name: "W_enc", shape: [p.width, p.latents], values: p.wEnc),
            .init(name: "W_dec", shape: [p.latents, p.width], values: p.wDec),
            .init(name: "b_enc", shape: [p.latents], values: p.bEnc),
            .init(name: "b_dec", shape: [p.width], values: p.bDec),
        ]
        if let t = sae.inferenceThreshold { tensors.append(.init(name: "threshold", shape: [p.latents], values: t)) }
        if p.hasSkip { tensors.append(.init(name: "W_skip", shape: [p.outputWidth, p.width], values: p.wSkip)) }
        try SafetensorsEncoder.write(tensors, to: directory + "/" + weightsName)
    }

    /// The saved transcoder architecture of a plain one (`standard`, `topk`, `jumprelu`).
    static func transcoderArchitecture(_ plain: String, skip: Bool) -> String {
        let base = plain == "standard" ? "" : plain + "_"
        return base + (skip ? "skip_transcoder" : "transcoder")
    }

    /// The plain architecture and skip flag of a saved transcoder architecture, or nil.
    static func parseTranscoderArchitecture(_ name: String) -> (plain: String, skip: Bool)? {
        for plain in ["standard", "topk", "jumprelu"] {
            for skip in [false, true] where transcoderArchitecture(plain, skip: skip) == name { return (plain, skip) }
        }
        return nil
    }

    /// Reads an SAE folder, checking every field and tensor shape; a sparsify folder
    /// (`sae.safetensors`, no `sae_weights.safetensors`) is read by ``SparsifyFolder``.
    /// - Throws: ``SAEError/badConfig(file:field:reason:)`` for a missing, mistyped or unsupported
    ///   field; ``SAEError/badTensor(file:name:expected:found:)`` for a missing or misshapen
    ///   tensor; ``FormatError`` for an unreadable file.
    public static func load(_ directory: String) throws -> (sae: any SparseAutoencoder, metadata: SAEMetadata) {
        if SparsifyFolder.holds(directory) { return try SparsifyFolder.load(directory) }
        let cfgPath = directory + "/" + configName
        guard let data = FileManager.default.contents(atPath: cfgPath) else {
            throw FormatError.io(file: cfgPath, reason: "cannot read (is \(directory) an SAE folder?)")
        }
        guard let cfg = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SAEError.badConfig(file: cfgPath, field: "(root)", reason: "is not a JSON object")
        }
        func int(_ key: String) throws -> Int {
            guard let v = cfg[key] else { throw SAEError.badConfig(file: cfgPath, field: key, reason: "is missing") }
            guard let n = v as? NSNumber, !(v is Bool), let i = Int(exactly: n.doubleValue), i > 0 else {
                throw SAEError.badConfig(file: cfgPath, field: key, reason: "is \(v), expected a positive integer")
            }
            return i
        }
        let dIn = try int("d_in"), dSAE = try int("d_sae")
        guard let savedArchitecture = cfg["architecture"] as? String else {
            throw SAEError.badConfig(file: cfgPath, field: "architecture", reason: "is missing or not a string")
        }
        let transcoder = parseTranscoderArchitecture(savedArchitecture)
        let architecture = transcoder?.plain ?? savedArchitecture
        guard ["standard", "topk", "jumprelu"].contains(architecture) else {
            throw SAEError.badConfig(file: cfgPath, field: "architecture", reason: "is '\(architecture)'; this Loupe reads standard, topk and "
                                     + "jumprelu (BatchTopK and Matryoshka SAEs are saved as jumprelu) and their transcoders "
                                     + "(transcoder, skip_transcoder, topk_transcoder, jumprelu_transcoder, ...)")
        }
        if transcoder != nil {
            let dOut = try int("d_out")
            guard dOut == dIn else {
                throw SAEError.badConfig(file: cfgPath, field: "d_out", reason: "is \(dOut) but d_in is \(dIn); this Loupe reads transcoders with d_out = d_in")
            }
        }
        if let dtype = cfg["dtype"] as? String, !["float32", "torch.float32"].contains(dtype) {
            throw SAEError.badConfig(file: cfgPath, field: "dtype", reason: "is '\(dtype)'; expected float32")
        }
        if let apply = cfg["apply_b_dec_to_input"], (apply as? Bool) != (transcoder == nil) {
            throw SAEError.badConfig(file: cfgPath, field: "apply_b_dec_to_input",
                                     reason: "is \(apply); this Loupe encodes SAEs with it true and transcoders with it false")
        }
        if let norm = cfg["normalize_activations"], !(norm is NSNull), (norm as? String) != "none" {
            throw SAEError.badConfig(file: cfgPath, field: "normalize_activations", reason: "is '\(norm)'; only 'none' is supported")
        }
        let weightsPath = directory + "/" + weightsName
        let weights = try SafetensorsCheckpoint(path: weightsPath)
        let shapes = [("W_enc", [dIn, dSAE]), ("W_dec", [dSAE, dIn]), ("b_enc", [dSAE]), ("b_dec", [dIn])]
        // Shapes first, so a cfg.json with huge sizes allocates nothing the file does not hold.
        for (name, shape) in shapes where weights.shape(of: name) != shape {
            throw SAEError.badTensor(file: weightsPath, name: name, expected: shape, found: weights.shape(of: name))
        }
        let thresholdShape = weights.shape(of: "threshold")
        if architecture == "jumprelu", thresholdShape != [dSAE] {
            throw SAEError.badTensor(file: weightsPath, name: "threshold", expected: [dSAE], found: thresholdShape)
        }
        if architecture != "jumprelu", thresholdShape != nil {
            throw SAEError.badConfig(file: cfgPath, field: "architecture", reason: "is '\(architecture)', but \(weightsPath) holds a JumpReLU 'threshold' tensor")
        }
        let skipShape = weights.shape(of: "W_skip")
        if transcoder?.skip == true, skipShape != [dIn, dIn] {
            throw SAEError.badTensor(file: weightsPath, name: "W_skip", expected: [dIn, dIn], found: skipShape)
        }
        if transcoder?.skip != true, skipShape != nil {
            throw SAEError.badConfig(file: cfgPath, field: "architecture", reason: "is '\(savedArchitecture)', but \(weightsPath) holds a 'W_skip' tensor")
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try weights.tensor(name).scalars }
        var p = try SAEParameters(width: dIn, latents: dSAE)
        p.isTranscoder = transcoder != nil
        if transcoder?.skip == true { p.wSkip = try tensor("W_skip", [dIn, dIn]) }
        p.wEnc = try tensor("W_enc", [dIn, dSAE])
        p.wDec = try tensor("W_dec", [dSAE, dIn])
        p.bEnc = try tensor("b_enc", [dSAE])
        p.bDec = try tensor("b_dec", [dIn])
        let sae: any SparseAutoencoder
        if architecture == "jumprelu" {
            p.threshold = try tensor("threshold", [dSAE])
            if let i = p.threshold.firstIndex(where: { !$0.isFinite }) {
                throw SAEError.badConfig(file: weightsPath, field: "threshold", reason: "holds \(p.threshold[i]) at latent \(i); thresholds must be finite")
            }
            sae = try JumpReLUSAE(parameters: p)
        } else if architecture == "topk" {
            let k = try int("k")
            guard k <= dSAE else { throw SAEError.badConfig(file: cfgPath, field: "k", reason: "is \(k), more than d_sae \(dSAE)") }
            if let rescale = cfg["rescale_acts_by_decoder_norm"], !(rescale is NSNull) {
                guard let on = rescale as? Bool else {
                    throw SAEError.badConfig(file: cfgPath, field: "rescale_acts_by_decoder_norm", reason: "is \(rescale), expected true or false")
                }
                if on { foldDecoderNorms(&p) }
            }
            sae = try TopKSAE(parameters: p, k: k)
        } else {
            sae = StandardSAE(parameters: p)
        }
        let meta = cfg["metadata"] as? [String: Any] ?? [:]
        var extra: [String: String] = [:]
        for (k, v) in meta where !["hook_name", "model_name", "context_size", "hook_name_out"].contains(k) { extra[k] = "\(v)" }
        let hookOut = meta["hook_name_out"] as? String ?? cfg["feature_output_hook"] as? String
        let metadata = SAEMetadata(hookName: meta["hook_name"] as? String ?? cfg["hook_name"] as? String ?? "",
                                   modelName: meta["model_name"] as? String ?? cfg["model_name"] as? String ?? "",
                                   contextSize: (meta["context_size"] as? NSNumber)?.intValue ?? 0, extra: extra,
                                   hookNameOut: transcoder == nil ? nil : hookOut)
        return (sae, metadata)
    }

    /// SAELens's TopK `rescale_acts_by_decoder_norm`: pre-activations times the decoder row
    /// norms, decoding divided by them. Moving the norms into `W_enc` and `b_enc` and out of
    /// `W_dec` gives the same encoding and decoding with unit-norm decoder rows.
    static func foldDecoderNorms(_ p: inout SAEParameters) {
        let d = p.width, m = p.latents
        for (i, norm) in p.decoderNorms.enumerated() {
            for j in 0..<d { p.wEnc[j * m + i] *= norm }
            p.bEnc[i] *= norm
            if norm > 0 { for j in 0..<d { p.wDec[i * d + j] /= norm } }
        }
    }
}
