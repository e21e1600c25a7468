import Formats
import Foundation

/// Writes small GGUF files byte by byte for tests, recording where each field lands so
/// tests can corrupt exactly one of them. Metadata values are encoded by ``GGUFEncoder``;
/// tensors may have any type and raw bytes, and the version and alignment can be wrong.
public struct GGUFWriter {
    /// A tensor to write: GGUF `ne` dimensions (innermost first), type and raw data bytes.
    public struct TensorEntry {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var data: [UInt8]
        public init(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.data = data
        }

        /// An F32 tensor with row-major `shape` (written as `ne` = shape reversed).
        public static func f32(_ name: String, shape: [Int], _ values: [Float]) -> TensorEntry {
            precondition(values.count == shape.reduce(1, *))
            let bytes = values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
            return TensorEntry(name: name, dimensions: shape.reversed(), type: .f32, data: bytes)
        }
    }

    /// Byte offsets of the written fields.
    public struct Layout {
        public var tensorCount = 8
        public var kvCount = 16
        /// Offset of each metadata pair (its key's length field), by key.
        public var keys: [String: Int] = [:]
        /// Offset of each metadata value's type tag, by key.
        public var valueTypes: [String: Int] = [:]
        /// Offset of each tensor-table entry (its name's length field), in order.
        public var tensorInfos: [Int] = []
        /// Offset of each tensor's type id, in order.
        public var tensorTypes: [Int] = []
        /// Offset of each tensor's data offset field, in order.
        public var tensorOffsets: [Int] = []
        /// Start of the data section.
        public var data = 0
    }

    public var version: UInt32 = 3
    public var alignment = 32
    public var metadata: [(String, GGUFValue)] = []
    public var tensors: [TensorEntry] = []

    public init(metadata: [(String, GGUFValue)] = [], tensors: [TensorEntry] = []) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The file's bytes and where its fields are.
    public func build() -> (bytes: [UInt8], layout: Layout) {
        var out: [UInt8] = []
        var layout = Layout()
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        out.append(contentsOf: Array("GGUF".utf8))
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            layout.keys[key] = out.count
            putString(key)
            layout.valueTypes[key] = out.count
            put(GGUFEncoder.typeID(value))
            GGUFEncoder.putValue(value, into: &out)
        }
        var dataOffsets: [Int] = []
        var next = 0
        for t in tensors {
            dataOffsets.append(next)
            next += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (i, t) in tensors.enumerated() {
            layout.tensorInfos.append(out.count)
            putString(t.name)
            put(UInt32(t.dimensions.count))
            for d in t.dimensions { put(UInt64(d)) }
            layout.tensorTypes.append(out.count)
            put(t.type.rawValue)
            layout.tensorOffsets.append(out.count)
            put(UInt64(dataOffsets[i]))
        }
        while out.count % alignment != 0 { out.append(0) }
        layout.data = out.count
        for t in tensors {
            out.append(contentsOf: t.data)
            while (out.count - layout.data) % alignment != 0 { out.append(0) }
        }
        return (out, layout)
    }
}

/// A fresh directory under the system temporary directory, for files a test writes.
public struct TemporaryDirectory {
    public let path: String

    public init(_ label: String = "loupe") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` in the directory and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        return file
    }

    /// Deletes the directory and its contents.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
