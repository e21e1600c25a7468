import Foundation
import Formats
import Linalg

/// EleutherAI sparsify's on-disk layout (`SparseCoder.save_to_disk`): a folder with `cfg.json`
/// (`d_in`, `activation` `topk` or `groupmax`, `k`, `num_latents` (0: `d_in` x
/// `expansion_factor`), `expansion_factor`, `normalize_decoder`, `multi_topk`,
/// `skip_connection`, `transcode`) and `sae.safetensors` (`encoder.weight` [d_sae, d_in],
/// `encoder.bias` [d_sae], `W_dec` [d_sae, d_in], `b_dec` [d_in], and `W_skip` [d_in, d_in]
/// with `skip_connection`). Its encoder is `topk(relu((x - b_dec) · encoder.weightᵀ + encoder.bias))`
/// (`x` not centred when `transcode`), its decoder `f · W_dec + b_dec (+ x · W_skipᵀ)`: Loupe's
/// ``TopKSAE`` (a TopK transcoder with `transcode`), `W_enc` being `encoder.weight` transposed.
///
/// Loupe writes the same fields, plus `loupe_metadata` (hook, model, context, training notes)
/// which sparsify's loader drops (`drop_extra_fields`) and Loupe reads back. Sparsify has no
/// name for ReLU-L1, JumpReLU or BatchTopK SAEs, and Loupe none for `groupmax`: both are refused.
public enum SparsifyFolder {
    public static let configName = "cfg.json"
    public static let weightsName = "sae.safetensors"

    /// Whether `directory` holds a sparsify SAE (its weights file, and no SAELens one).
    public static func holds(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + weightsName)
            && !FileManager.default.fileExists(atPath: directory + "/" + SAEFolder.weightsName)
    }

    /// Writes `sae` in sparsify's layout into `directory` (created if needed).
    /// - Throws: ``SAEError/unsupported(_:)`` for an SAE that is not TopK; ``FormatError`` or a
    ///   file-system error when the folder cannot be written.
    public static func save(_ sae: any SparseAutoencoder, metadata: SAEMetadata, to directory: String) throws {
        guard let topk = sae as? TopKSAE else {
            throw SAEError.unsupported("sparsify has no architecture for a '\(sae.architecture)' SAE (it has topk and groupmax); "
                                       + "only TopK SAEs and transcoders convert to sparsify")
        }
        let p = topk.parameters, d = p.width, m = p.latents
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var meta: [String: Any] = ["hook_name": metadata.hookName, "model_name": metadata.modelName, "context_size": metadata.contextSize]
        for (k, v) in metadata.extra { meta[k] = v }
        if let out = metadata.hookNameOut { meta["hook_name_out"] = out }
        let cfg: [String: Any] = ["d_in": d, "activation": "topk", "k": topk.k, "num_latents": m, "expansion_factor": max(1, m / d),
                                  "normalize_decoder": true, "multi_topk": false, "skip_connection": p.hasSkip,
                                  "transcode": p.isTranscoder, "loupe_metadata": meta]
        let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: directory + "/" + configName), options: .atomic)
        var encoder = [Float](repeating: 0, count: m * d)
        for j in 0..<d { for i in 0..<m { encoder[i * d + j] = p.wEnc[j * m + i] } }
        var tensors: [SafetensorsEncoder.Tensor32] = [
            .init(name: "encoder.weight", shape: [m, d], values: encoder), .init(name: "encoder.bias", shape: [m], values: p.bEnc),
            .init(name: "W_dec", shape: [m, d], values: p.wDec), .init(name: "b_dec", shape: [d], values: p.bDec),
        ]
        if p.hasSkip { tensors.append(.init(name: "W_skip", shape: [d, d], values: p.wSkip)) }
        try SafetensorsEncoder.write(tensors, to: directory + "/" + weightsName)
    }

    /// Reads a sparsify folder as a ``TopKSAE``, checking every field and shape.
    /// - Throws: ``SAEError/badConfig(file:field:reason:)`` for a missing, mistyped or
    ///   unsupported field (`groupmax`); ``SAEError/badTensor(file:name:expected:found:)`` for a
    ///   missing or misshapen tensor; ``FormatError`` for an unreadable file.
    public static func load(_ directory: String) throws -> (sae: any SparseAutoencoder, metadata: SAEMetadata) {
        let cfgPath = directory + "/" + configName
        guard let data = FileManager.default.contents(atPath: cfgPath) else {
            throw FormatError.io(file: cfgPath, reason: "cannot read (is \(directory) a sparsify SAE folder?)")
        }
        guard let cfg = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SAEError.badConfig(file: cfgPath, field: "(root)", reason: "is not a JSON object")
        }
        func int(_ key: String, default fallback: Int? = nil, allowZero: Bool = false) throws -> Int {
            guard let v = cfg[key] else {
                if let fallback { return fallback }
                throw SAEError.badConfig(file: cfgPath, field: key, reason: "is missing")
            }
            // (Not `!(v is Bool)`: on Linux a JSON 0 or 1 bridges to Bool as well.)
            guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue), i > 0 || (allowZero && i == 0) else {
                throw SAEError.badConfig(file: cfgPath, field: key, reason: "is \(v), expected a \(allowZero ? "non-negative" : "positive") integer")
            }
            return i
        }
        func bool(_ key: String) throws -> Bool {
            guard let v = cfg[key] else { return false }
            guard let b = v as? Bool else { throw SAEError.badConfig(file: cfgPath, field: key, reason: "is \(v), expected true or false") }
            return b
        }
        let activation = cfg["activation"] as? String ?? "topk"
        guard activation == "topk" else {
            throw SAEError.badConfig(file: cfgPath, field: "activation", reason: "is '\(activation)'; Loupe reads sparsify's topk SAEs only (it has no groupmax)")
        }
        let d = try int("d_in"), k = try int("k", default: 32)
        let (skip, transcode) = (try bool("skip_connection"), try bool("transcode"))
        let weightsPath = directory + "/" + weightsName
        let weights = try SafetensorsCheckpoint(path: weightsPath)
        guard let shape = weights.shape(of: "encoder.weight"), shape.count == 2, shape[1] == d, shape[0] > 0 else {
            throw SAEError.badTensor(file: weightsPath, name: "encoder.weight", expected: [try int("num_latents", default: 0, allowZero: true), d],
                                     found: weights.shape(of: "encoder.weight"))
        }
        let m = shape[0]
        let declared = try int("num_latents", default: 0, allowZero: true)
        let implied = declared > 0 ? declared : d * (try int("expansion_factor", default: 32))
        guard implied == m else {
            throw SAEError.badConfig(file: cfgPath, field: declared > 0 ? "num_latents" : "expansion_factor",
                                     reason: "gives \(implied) latents, but encoder.weight in \(weightsPath) has \(m)")
        }
        guard k <= m else { throw SAEError.badConfig(file: cfgPath, field: "k", reason: "is \(k), more than the \(m) latents") }
        var shapes = [("encoder.bias", [m]), ("W_dec", [m, d]), ("b_dec", [d])]
        if skip { shapes.append(("W_skip", [d, d])) }
        for (name, expected) in shapes where weights.shape(of: name) != expected {
            throw SAEError.badTensor(file: weightsPath, name: name, expected: expected, found: weights.shape(of: name))
        }
        if !skip, weights.shape(of: "W_skip") != nil {
            throw SAEError.badConfig(file: cfgPath, field: "skip_connection", reason: "is false, but \(weightsPath) holds a 'W_skip' tensor")
        }
        var p = try SAEParameters(width: d, latents: m)
        let encoder = try weights.tensor("encoder.weight").scalars
        for i in 0..<m { for j in 0..<d { p.wEnc[j * m + i] = encoder[i * d + j] } }
        p.bEnc = try weights.tensor("encoder.bias").scalars
        p.wDec = try weights.tensor("W_dec").scalars
        p.bDec = try weights.tensor("b_dec").scalars
        if skip { p.wSkip = try weights.tensor("W_skip").scalars }
        p.isTranscoder = transcode
        let meta = cfg["loupe_metadata"] as? [String: Any] ?? [:]
        var extra: [String: String] = [:]
        for (key, v) in meta where !["hook_name", "model_name", "context_size", "hook_name_out"].contains(key) { extra[key] = "\(v)" }
        if meta.isEmpty { extra["sparsify_hookpoint"] = URL(fileURLWithPath: directory).lastPathComponent }
        let metadata = SAEMetadata(hookName: meta["hook_name"] as? String ?? "", modelName: meta["model_name"] as? String ?? "",
                                   contextSize: (meta["context_size"] as? NSNumber)?.intValue ?? 0, extra: extra,
                                   hookNameOut: transcode ? meta["hook_name_out"] as? String : nil)
        return (try TopKSAE(parameters: p, k: k), metadata)
    }
}
