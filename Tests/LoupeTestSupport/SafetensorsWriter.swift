import Foundation

/// Writes small safetensors files for tests: a header of JSON then the tensors' bytes.
public enum SafetensorsWriter {
    /// One tensor: name, dtype string (`F32`, `F16`, `BF16`, ...), shape and raw bytes.
    public struct Entry {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var data: [UInt8]
        /// `data_offsets` to write instead of the true ones (to make broken files).
        public var offsetsOverride: (Int, Int)?
        public init(name: String, dtype: String, shape: [Int], data: [UInt8], offsetsOverride: (Int, Int)? = nil) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.data = data
            self.offsetsOverride = offsetsOverride
        }
    }

    /// The bytes of a safetensors file holding `entries` in order.
    public static func bytes(_ entries: [Entry], metadata: [String: String] = [:]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        var data: [UInt8] = []
        for e in entries {
            let (b, end) = e.offsetsOverride ?? (offset, offset + e.data.count)
            parts.append("\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(b),\(end)]}")
            offset += e.data.count
            data += e.data
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }  // pad with spaces, as the reference writer does
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        return out + header + data
    }

    /// Little-endian bytes of `values` as F32.
    public static func f32(_ values: [Float]) -> [UInt8] {
        values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    }

    /// Little-endian bytes of 16-bit patterns (F16 or BF16 bits).
    public static func u16(_ bits: [UInt16]) -> [UInt8] {
        bits.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
    }
}
