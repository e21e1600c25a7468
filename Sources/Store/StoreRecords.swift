import Models
import Foundation

/// A prompt as stored: its row id, place in its dataset, text, token ids and metadata.
public struct StoredPrompt: Sendable, Equatable {
    public var id: Int64
    /// 0-based order within the dataset.
    public var index: Int
    /// Line of the prompt file it came from (for corpus windows: the line its document starts on).
    public var line: Int
    public var text: String
    public var tokens: [Int]
    public var metadata: [String: JSONValue]
}

/// One capture: a model, a dataset, hook points, a position selection and a dtype.
public struct CaptureRecord: Sendable, Equatable {
    public var id: Int64
    public var modelID: Int64
    public var datasetID: Int64
    /// Canonical hook names, in forward order.
    public var hooks: [String]
    public var positions: String
    public var dtype: ActivationDType
}

/// One prompt's activations, ready to write: the positions kept and one tensor per hook.
public struct CapturedPrompt: Sendable {
    public var promptID: Int64
    /// Absolute positions kept, in order: row `i` of every activation is position `positions[i]`.
    public var positions: [Int]
    public var activations: [CapturedActivation]

    public init(promptID: Int64, positions: [Int], activations: [CapturedActivation]) {
        self.promptID = promptID
        self.positions = positions
        self.activations = activations
    }
}

/// One hook's activation for one prompt, already encoded in the capture's dtype.
public struct CapturedActivation: Sendable {
    public var hook: String
    /// Rows (kept positions) first: `[rows, width]`, `[rows, heads, headDim]`, or for
    /// patterns `[rows, heads, keys]`.
    public var shape: [Int]
    public var data: Data

    public init(hook: String, shape: [Int], data: Data) {
        self.hook = hook
        self.shape = shape
        self.data = data
    }
}

/// Int arrays as int32 little-endian BLOBs (token ids, positions).
enum IntBlob {
    static func encode(_ values: [Int]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func decode(_ data: Data) -> [Int] {
        data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        }
    }
}
