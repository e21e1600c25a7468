import Foundation

/// The on-disk SAE layouts Loupe reads and writes.
public enum SAEFormat: String, Sendable, CaseIterable {
    /// SAELens: `cfg.json` + `sae_weights.safetensors` (``SAEFolder``, Loupe's own).
    case saelens
    /// EleutherAI sparsify: `cfg.json` + `sae.safetensors` (``SparsifyFolder``).
    case sparsify
}

/// Converts an SAE folder between SAELens's layout and sparsify's (`loupe sae convert`): the
/// weights are copied (transposed where the layouts differ), never recomputed, so a round trip
/// gives the same bits and the same encodings.
public enum SAEConversion {
    /// The layout of the SAE folder `directory`.
    public static func format(of directory: String) -> SAEFormat { SparsifyFolder.holds(directory) ? .sparsify : .saelens }

    /// Reads `source` (either layout) and writes it to `destination` in `format`; returns the
    /// SAE and the layout it was read from.
    /// - Throws: ``SAEError/unsupported(_:)`` when `format` cannot represent the SAE or the
    ///   destination is the source or already holds an SAE; what the folders' `load` and `save` throw.
    @discardableResult
    public static func convert(from source: String, to destination: String, format: SAEFormat) throws -> (sae: any SparseAutoencoder, from: SAEFormat) {
        let a = URL(fileURLWithPath: source).standardizedFileURL.path, b = URL(fileURLWithPath: destination).standardizedFileURL.path
        guard a != b else { throw SAEError.unsupported("--to \(destination) is the folder being converted; write to another folder") }
        for name in [SAEFolder.configName, SAEFolder.weightsName, SparsifyFolder.weightsName]
        where FileManager.default.fileExists(atPath: destination + "/" + name) {
            throw SAEError.unsupported("\(destination) already holds \(name); convert into a new or empty folder")
        }
        let from = Self.format(of: source)
        let (sae, metadata) = try SAEFolder.load(source)
        switch format {
        case .saelens: try SAEFolder.save(sae, metadata: metadata, to: destination)
        case .sparsify: try SparsifyFolder.save(sae, metadata: metadata, to: destination)
        }
        return (sae, from)
    }
}
