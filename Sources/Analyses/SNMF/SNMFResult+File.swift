import Formats
import Foundation

/// A saved semi-NMF result (`snmf.json`): every setting that made it, the loss curve, the
/// features `Zᵀ` (a row of d neuron weights per feature) and optionally the codes `Y`.
public struct SNMFFile: Codable, Sendable, Equatable {
    public var format = "loupe-snmf"
    public var version = 1
    /// Where the rows came from, and the hook when they came from a store.
    public var source: String
    public var hook: String?
    public var tokens: Int
    public var neurons: Int
    /// Store rows left out (position 0, special tokens); nil for rows not read from a store.
    public var leftOut: SNMFLeftOut?
    /// The fit's settings (rank, sparsity, ridge, epsilon, initialization, seed, iterations,
    /// tolerance, patience).
    public var config: SemiNMF.Config
    public var bestIteration: Int
    public var converged: Bool
    /// Loss of the start, then after each iteration.
    public var losses: [Double]
    /// `‖A - ZY‖ / ‖A‖` per entry of `losses`.
    public var relativeErrors: [Double]
    /// `Zᵀ`: k rows of d weights.
    public var features: [[Float]]
    /// `Y`: k rows of n codes (nil when not saved, or saved in ``codesFile``).
    public var codes: [[Float]]?
    /// The name of a float32 `.npy` `[k, n]` beside this file holding Y (a fit over MPI ranks
    /// with `--save-codes`: each rank wrote its columns, ``SNMFCodesFile``); nil otherwise.
    public var codesFile: String?

    /// The file for `result` of `rows`; `includeCodes` keeps Y (k x n values).
    public init(result: SemiNMF.Result, rows: any SNMFRowProvenance, includeCodes: Bool) {
        let (k, d, n) = (result.rank, result.neurons, result.tokens)
        source = rows.source
        hook = rows.hook
        tokens = n
        neurons = d
        leftOut = rows.leftOut
        config = result.config
        bestIteration = result.bestIteration
        converged = result.converged
        losses = result.losses
        relativeErrors = result.relativeErrors
        features = (0..<k).map { Array(result.features[($0 * d)..<(($0 + 1) * d)]) }
        codes = includeCodes ? (0..<k).map { Array(result.codes[($0 * n)..<(($0 + 1) * n)]) } : nil
    }

    /// Writes the file as JSON.
    public func save(to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { try e.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw SNMFError.badFile(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Y, from ``codes`` or from ``codesFile`` in `folder` (the file's folder); nil when not saved.
    /// - Throws: `FormatError` for an unreadable codes file; ``SNMFError/badFile(path:reason:)``
    ///   for one of the wrong shape.
    public func savedCodes(folder: String) throws -> [[Float]]? {
        if let codes { return codes }
        guard let codesFile else { return nil }
        let path = URL(fileURLWithPath: folder).appendingPathComponent(codesFile).path
        let y = try NumPyArray.read(path: path)
        let k = features.count
        guard y.shape == [k, tokens] else { throw SNMFError.badFile(path: path, reason: "shape \(y.shape), expected [\(k), \(tokens)]") }
        return (0..<k).map { Array(y.scalars[($0 * tokens)..<(($0 + 1) * tokens)]) }
    }

    /// Reads a saved result.
    /// - Throws: ``SNMFError/badFile(path:reason:)`` for a missing, malformed or foreign file.
    public static func load(path: String) throws -> SNMFFile {
        let file: SNMFFile
        do { file = try JSONDecoder().decode(SNMFFile.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw SNMFError.badFile(path: path, reason: "not a readable semi-NMF result: \(error)")
        }
        guard file.format == "loupe-snmf", file.version == 1 else {
            throw SNMFError.badFile(path: path, reason: "format \(file.format) version \(file.version), expected loupe-snmf version 1")
        }
        return file
    }
}
