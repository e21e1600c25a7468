import Formats
import Models

/// Reads a llama.cpp control vector (`general.architecture = "controlvector"`, tensors
/// `direction.N`) as Loupe steering directions, with the checks llama.cpp's loader
/// (`common_control_vector_load_one`) makes: every tensor is `direction.N` with N >= 1, float32,
/// one-dimensional and as wide as the others. llama.cpp adds `direction.N` to the output of
/// block N (counted from 0), which is Loupe's `blocks.N.hook_resid_post`: the inverse of
/// ``ControlVectorExport/llamaCppLayer(for:)``.
public enum ControlVectorImport {
    /// The hook point llama.cpp adds `direction.N` to: `blocks.N.hook_resid_post`.
    /// - Throws: ``SteeringError/badDirectionFile(path:reason:)`` for a name that is not
    ///   `direction.N` with N >= 1.
    public static func hookPoint(forTensor name: String, path: String = "") throws -> HookPoint {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[0] == "direction", let n = Int(parts[1]), n >= 1 else {
            throw SteeringError.badDirectionFile(path: path, reason: "tensor '\(name)' is not direction.N with N >= 1 (llama.cpp refuses it)")
        }
        return .residPost(n)
    }

    /// The file's directions, in layer order, scaled by `scale` (llama.cpp's `--control-vector-scaled`).
    /// - Parameter config: when given, every layer must be one of its blocks and the width its `dModel`.
    /// - Throws: ``SteeringError/badDirectionFile(path:reason:)``, ``FormatError``.
    public static func read(path: String, config: TransformerConfig? = nil, scale: Float = 1) throws -> [SteeringDirection] {
        let file = try GGUFFile(path: path)
        guard file.metadata["general.architecture"]?.string == "controlvector" else {
            throw SteeringError.badDirectionFile(path: path, reason: "general.architecture is not 'controlvector'")
        }
        var out: [(Int, SteeringDirection)] = []
        var width: Int? = nil
        for info in file.tensors {
            let point = try hookPoint(forTensor: info.name, path: path)
            guard info.type == .f32, info.shape.count == 1 else {
                throw SteeringError.badDirectionFile(path: path, reason: "\(info.name) must be a one-dimensional float32 tensor")
            }
            let n = info.shape[0]
            if let width, width != n { throw SteeringError.badDirectionFile(path: path, reason: "\(info.name) has \(n) values, the others \(width)") }
            width = n
            if let config {
                guard point.layer! < config.nLayers, n == config.dModel else {
                    throw SteeringError.badDirectionFile(path: path, reason: "\(info.name) (\(n) values) does not fit \(config.name): \(config.nLayers) blocks of width \(config.dModel)")
                }
            }
            let vector = try file.tensor(info.name).scalars.map { $0 * scale }
            let norm = Double(vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot())
            out.append((point.layer!, SteeringDirection(vector: vector, hook: point.name,
                                                        provenance: .init(source: "llama.cpp control vector", layer: point.layer, norm: norm,
                                                                          notes: ["file": path, "tensor": info.name]))))
        }
        return out.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
