import Foundation
import Models

/// A steering vector: what to add at one hook point, and where it came from.
///
/// Saved as one JSON file (``save(to:)``, ``load(from:)``):
/// ```
/// { "format": "loupe-steering-direction", "version": 1,
///   "hook": "blocks.15.hook_resid_post", "width": 576, "vector": [...],
///   "provenance": { "source": "mean-difference", "dataset": "...", "pairs": 120,
///                   "layer": 15, "norm": 3.1, "positionRule": "mean-excluding-first", ... } }
/// ```
/// The vector is stored as derived (not normalized); `provenance.norm` is its L2 norm.
/// A strength given as a multiple of the activation norm uses the unit vector instead.
public struct SteeringDirection: Codable, Sendable, Equatable {
    /// The values added (row width of the hook point).
    public var vector: [Float]
    /// The hook point's TransformerLens name, e.g. `blocks.15.hook_resid_post`.
    public var hook: String
    /// How the vector was made.
    public var provenance: Provenance

    public init(vector: [Float], hook: String, provenance: Provenance) {
        self.vector = vector
        self.hook = hook
        self.provenance = provenance
    }

    /// Where a direction came from.
    public struct Provenance: Codable, Sendable, Equatable {
        /// The source kind (``DirectionSourceKind``'s raw value; other strings are kept as is).
        public var source: String
        /// The model it was derived on (its name), when known.
        public var model: String?
        /// The contrast dataset's file name, or a description of the prompts.
        public var dataset: String?
        /// Number of contrastive pairs used.
        public var pairs: Int?
        /// For single-pair sources (ActAdd): the two prompts.
        public var positivePrompt: String?
        public var negativePrompt: String?
        /// The hook's layer, when it has one.
        public var layer: Int?
        /// L2 norm of ``SteeringDirection/vector``.
        public var norm: Double
        /// How each prompt's activation rows became one vector (``PositionRule``'s raw value).
        public var positionRule: String?
        /// Free-form notes (e.g. the PCA's explained variance, sign choice).
        public var notes: [String: String]

        public init(source: String, model: String? = nil, dataset: String? = nil, pairs: Int? = nil,
                    positivePrompt: String? = nil, negativePrompt: String? = nil, layer: Int? = nil,
                    norm: Double, positionRule: String? = nil, notes: [String: String] = [:]) {
            self.source = source
            self.model = model
            self.dataset = dataset
            self.pairs = pairs
            self.positivePrompt = positivePrompt
            self.negativePrompt = negativePrompt
            self.layer = layer
            self.norm = norm
            self.positionRule = positionRule
            self.notes = notes
        }
    }

    /// Width of the vector.
    public var width: Int { vector.count }

    /// L2 norm of the vector.
    public var norm: Double { SteeringMath.norm(vector) }

    /// The vector scaled to length 1 (zeros stay zeros).
    public var unit: [Float] {
        let n = norm
        return n > 0 ? vector.map { Float(Double($0) / n) } : vector
    }

    /// Checks the direction against `model`: the hook exists and its row width is the vector's.
    /// - Returns: the hook point.
    /// - Throws: ``ModelError/unknownHook(name:suggestions:)`` or ``SteeringError/widthMismatch``.
    public func hookPoint(in config: TransformerConfig) throws -> HookPoint {
        let point = try config.hookPoint(named: hook)
        let shape = config.shape(of: point, positions: 1)
        if case .pattern = point { throw SteeringError.unsupportedHook(hook) }
        let rowWidth = point.isPerHead ? shape.last! : shape.dropFirst().reduce(1, *)
        guard rowWidth == width else {
            throw SteeringError.widthMismatch(hook: hook, expected: rowWidth, found: width)
        }
        return point
    }

    // MARK: File format

    private struct File: Codable {
        var format: String
        var version: Int
        var hook: String
        var width: Int
        var vector: [Float]
        var provenance: Provenance
    }

    static let formatName = "loupe-steering-direction"

    /// The JSON text of the file format above.
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(File(format: Self.formatName, version: 1, hook: hook, width: width,
                                 vector: vector, provenance: provenance))
    }

    /// Writes the direction as JSON to `path` (atomically).
    public func save(to path: String) throws {
        try jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a direction saved by ``save(to:)``.
    /// - Throws: ``SteeringError/badDirectionFile`` when the file is not one.
    public static func load(from path: String) throws -> SteeringDirection {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SteeringError.badDirectionFile(path: path, reason: "cannot read it (\(error.localizedDescription))")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw SteeringError.badDirectionFile(path: path, reason: "not a Loupe direction JSON (\(error))")
        }
        guard file.format == formatName, file.version == 1 else {
            throw SteeringError.badDirectionFile(path: path, reason: "format '\(file.format)' version \(file.version), expected '\(formatName)' version 1")
        }
        guard file.vector.count == file.width, file.width > 0 else {
            throw SteeringError.badDirectionFile(path: path, reason: "width \(file.width) but \(file.vector.count) values")
        }
        guard file.vector.allSatisfy(\.isFinite) else {
            throw SteeringError.badDirectionFile(path: path, reason: "the vector holds NaN or infinite values")
        }
        return SteeringDirection(vector: file.vector, hook: file.hook, provenance: file.provenance)
    }
}
