import Foundation

/// Writes GGUF v3 files with float32 tensors (control vectors, small exports).
///
/// The layout is gguf.cpp's: header, metadata pairs in the given order, the tensor table,
/// padding to `alignment`, then each tensor's data padded to `alignment`. ``GGUFFile`` reads
/// what this writes.
public enum GGUFEncoder {
    /// One float32 tensor: a name and its row-major `shape` (written as `ne` = shape reversed).
    public struct Tensor32: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The file's bytes.
    public static func encode(metadata: [(String, GGUFValue)], tensors: [Tensor32], alignment: Int = 32) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        out.append(contentsOf: Array("GGUF".utf8))
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(typeID(value))
            putValue(value, into: &out)
        }
        var offset = 0
        for t in tensors {
            putString(t.name)
            put(UInt32(t.shape.count))
            for d in t.shape.reversed() { put(UInt64(d)) }
            put(GGMLType.f32.rawValue)
            put(UInt64(offset))
            offset += (t.values.count * 4 + alignment - 1) / alignment * alignment
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for t in tensors {
            for v in t.values { put(v.bitPattern) }
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file atomically.
    public static func write(to path: String, metadata: [(String, GGUFValue)], tensors: [Tensor32]) throws {
        try writeBytes(encode(metadata: metadata, tensors: tensors), to: path)
    }

    /// Writes encoded bytes atomically.
    public static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The GGUF type id of a metadata value (an array: 9; its elements' type is written after it).
    public static func typeID(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    /// Appends a metadata value's payload (after its type id), little-endian.
    public static func putValue(_ v: GGUFValue, into out: inout [UInt8]) {
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        switch v {
        case .uint8(let x): put(x)
        case .int8(let x): put(x)
        case .uint16(let x): put(x)
        case .int16(let x): put(x)
        case .uint32(let x): put(x)
        case .int32(let x): put(x)
        case .float32(let x): put(x.bitPattern)
        case .bool(let x): put(UInt8(x ? 1 : 0))
        case .string(let s): put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8)
        case .array(let a):
            put(a.elementTypeID)
            put(UInt64(a.count))
            if case .uint8(let bytes) = a.storage { out.append(contentsOf: bytes) } else {
                for e in a { putValue(e, into: &out) }
            }
        case .uint64(let x): put(x)
        case .int64(let x): put(x)
        case .float64(let x): put(x.bitPattern)
        }
    }
}
