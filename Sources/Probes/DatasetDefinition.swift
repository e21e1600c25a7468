import Foundation
import Store

/// Where a probe reads each prompt's activation.
public enum ReadPosition: String, Sendable, Codable, CaseIterable {
    /// The prompt's last token.
    case last
    /// The last token of the prompt's `subject` field (needs a `--positions subject` capture).
    case subject
    /// The mean over positions 1..<n (``PositionRule/meanExcludingFirst``, the same pooling
    /// as steering's): position 0, the attention sink with its ~100x norm, is left out.
    /// Needs a capture of all positions.
    case mean
    /// Whatever the capture kept, the last kept row of each prompt (for `--label` on any store).
    case stored

    /// How a prompt's stored rows become its example: the mean without position 0 for
    /// ``mean``, else the last stored row (``last``, ``subject`` and ``stored`` captures keep
    /// the wanted row last).
    public var pooling: PositionRule { self == .mean ? .meanExcludingFirst : .last }

    /// The `loupe capture --positions` value that provides this position.
    public var capturePositions: String {
        switch self {
        case .last, .stored: return "last"
        case .subject: return "subject"
        case .mean: return "all"
        }
    }

    /// Whether a capture made with `--positions spec` provides this position.
    public func isProvided(by spec: String) -> Bool {
        switch self {
        case .last: return spec == "last" || spec == "-1" || spec == "all"
        case .subject: return spec == "subject"
        case .mean: return spec == "all"
        case .stored: return true
        }
    }
}

/// A probe dataset's definition file (`probes/<name>/dataset.json`):
///
///     {"name": "facts-true-false", "prompts": "facts-true-false.jsonl", "text": "text",
///      "label": "label", "position": "last", "word": "subject"}
///
/// `prompts` is a JSONL file beside it (relative path), `label` the field holding the class,
/// `position` where to read (last / subject / mean), and `word` the field holding the word
/// the label hinges on, whose types the control task labels at random. `targets` optionally
/// lists numeric fields for ridge probes (`"targets": ["latitude", "longitude"]`).
public struct DatasetDefinition: Sendable, Codable, Equatable {
    public var name: String
    public var prompts: String
    public var text: String?
    public var label: String
    public var position: ReadPosition
    public var word: String?
    /// Numeric fields a ridge probe can predict (`--probe ridge --target FIELD`), if any.
    public var targets: [String]?
    public var description: String?

    /// The folder the definition was read from.
    public var directory: String = ""

    enum CodingKeys: String, CodingKey { case name, prompts, text, label, position, word, targets, description }

    /// The prompt file's path.
    public var promptsPath: String { (directory as NSString).appendingPathComponent(prompts) }

    /// The name `loupe capture` gives the dataset in a store (the prompt file's name).
    public var storedName: String { (prompts as NSString).lastPathComponent }

    /// Reads `path`: a dataset folder (its `dataset.json`) or the definition file itself.
    /// - Throws: ``ProbeError/badFile(path:reason:)``.
    public static func load(_ path: String) throws -> DatasetDefinition {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("dataset.json") : path
        guard exists, let data = FileManager.default.contents(atPath: file) else {
            throw ProbeError.badFile(path: file, reason: "cannot read the dataset definition (a folder with dataset.json, or the file)")
        }
        do {
            var d = try JSONDecoder().decode(DatasetDefinition.self, from: data)
            d.directory = (file as NSString).deletingLastPathComponent
            if d.position == .stored {
                throw ProbeError.badFile(path: file, reason: "position must be last, subject or mean")
            }
            return d
        } catch let error as ProbeError {
            throw error
        } catch {
            throw ProbeError.badFile(path: file, reason: "not a dataset definition: \(error)")
        }
    }
}
