import Formats
import Models

/// Export as a llama.cpp control vector (`llama-cli --control-vector FILE.gguf`, `--control-vector-scaled FILE.gguf S`),
/// the format repeng's `export_gguf` writes.
///
/// The file holds `general.architecture = "controlvector"`, `controlvector.model_hint`
/// (e.g. "llama"), `controlvector.layer_count` (the number of direction tensors), and one
/// float32 tensor `direction.N` of `d_model` values per layer. llama.cpp adds `direction.N`
/// to the output of block `N` (its `l_out`), counting blocks from 0, and rejects N = 0
/// (its layer indices start at 1, the embedding output cannot be steered). So Loupe's
/// `blocks.N.hook_resid_post` exports as `direction.N` (N >= 1) and `blocks.N.hook_resid_pre`
/// as `direction.(N-1)` (N >= 2); other hook points have no llama.cpp equivalent.
/// Directions landing on the same layer are summed, as llama.cpp sums several files.
public enum ControlVectorExport {
    /// The llama.cpp layer index (`direction.N`) for a hook point.
    /// - Throws: ``SteeringError/notExportable(hook:reason:)``.
    public static func llamaCppLayer(for point: HookPoint) throws -> Int {
        switch point {
        case .residPost(let l) where l >= 1: return l
        case .residPre(let l) where l >= 2: return l - 1
        case .residPost, .residPre:
            throw SteeringError.notExportable(hook: point.name, reason: "llama.cpp cannot steer the embedding output or block 0's output (its direction.N starts at N = 1)")
        default:
            throw SteeringError.notExportable(hook: point.name, reason: "llama.cpp control vectors only add to the residual stream between blocks (hook_resid_post / hook_resid_pre)")
        }
    }

    /// The GGUF bytes for `directions`, each multiplied by `scale`.
    public static func encode(_ directions: [SteeringDirection], config: TransformerConfig, scale: Float = 1) throws -> [UInt8] {
        guard !directions.isEmpty else { throw SteeringError.invalid("no direction to export") }
        var byLayer: [Int: [Float]] = [:]
        for d in directions {
            let point = try d.hookPoint(in: config)
            let layer = try llamaCppLayer(for: point)
            var sum = byLayer[layer] ?? [Float](repeating: 0, count: d.width)
            for i in 0..<d.width { sum[i] += scale * d.vector[i] }
            byLayer[layer] = sum
        }
        let hint = config.architecture
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("controlvector")),
            ("controlvector.model_hint", .string(hint)),
            ("controlvector.layer_count", .uint32(UInt32(byLayer.count))),
        ]
        let tensors = byLayer.keys.sorted().map { GGUFEncoder.Tensor32(name: "direction.\($0)", shape: [config.dModel], values: byLayer[$0]!) }
        return GGUFEncoder.encode(metadata: metadata, tensors: tensors)
    }

    /// Writes the control vector file.
    public static func write(_ directions: [SteeringDirection], config: TransformerConfig, scale: Float = 1, to path: String) throws {
        let bytes = try encode(directions, config: config, scale: scale)
        try GGUFEncoder.writeBytes(bytes, to: path)
    }
}
