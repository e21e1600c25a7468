import Foundation

/// Writes safetensors files of float32 tensors (SAE weights, small exports): an 8-byte
/// little-endian header length, the header JSON (padded with spaces to a multiple of 8, as the
/// reference writer does), then each tensor's little-endian bytes in the order given.
/// ``SafetensorsCheckpoint`` reads what this writes.
public enum SafetensorsEncoder {
    /// One float32 tensor: a name and its row-major `shape`.
    public struct Tensor32: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The file's bytes.
    /// - Throws: ``FormatError/invalidValue(_:reason:)`` when a tensor's value count differs from
    ///   its shape's product (or the product overflows), a name repeats or is `__metadata__`, or
    ///   the header would exceed ``SafetensorsFile``'s 100 MB limit.
    public static func encode(_ tensors: [Tensor32], metadata: [String: String] = [:], file: String = "safetensors") throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in tensors {
            let at = FormatError.Location(file: file, object: "tensor '\(t.name)'")
            guard t.name != "__metadata__", header[t.name] == nil else {
                throw FormatError.invalidValue(at, reason: "name is reserved or repeated")
            }
            var count = 1
            for d in t.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, d >= 0 else { throw FormatError.invalidValue(at, reason: "shape \(t.shape) has no valid element count") }
                count = p
            }
            guard count == t.values.count else {
                throw FormatError.invalidValue(at, reason: "\(t.values.count) values for shape \(t.shape) (\(count) expected)")
            }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * count]] as [String: Any]
            offset += 4 * count
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(0x20) }
        guard UInt64(json.count) <= SafetensorsFile.maxHeaderLength else {
            throw FormatError.invalidValue(.init(file: file, object: "header JSON"),
                                           reason: "\(json.count) bytes exceed the \(SafetensorsFile.maxHeaderLength)-byte limit")
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out += json
        for t in tensors {
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// Writes the file atomically.
    /// - Throws: what ``encode(_:metadata:file:)`` throws, or ``FormatError/io(file:reason:)``.
    public static func write(_ tensors: [Tensor32], metadata: [String: String] = [:], to path: String) throws {
        let bytes = try encode(tensors, metadata: metadata, file: path)
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.io(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
