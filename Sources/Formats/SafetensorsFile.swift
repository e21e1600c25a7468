import Foundation

/// One tensor in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's name.
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Row-major shape, outermost first (`[]` for a scalar).
    public let shape: [Int]
    /// The file holding the data.
    public let file: String
    /// Offset of the data from the start of that file.
    public let fileOffset: Int
    /// Size of the data in bytes (`shape` product times the dtype size).
    public let byteCount: Int
}

/// One mapped `.safetensors` file with its validated header: an 8-byte little-endian
/// header length, that many bytes of JSON, then the data the JSON's `data_offsets` index.
struct SafetensorsFile: Sendable {
    /// Headers longer than this are refused, as in the reference implementation.
    static let maxHeaderLength: UInt64 = 100_000_000

    let path: String
    let mapped: MappedFile
    /// Tensors ordered by data offset.
    let tensors: [SafetensorsTensorInfo]
    /// The header's `__metadata__` string map, if any.
    let metadata: [String: String]

    init(path: String) throws {
        let mapped = try MappedFile(path: path)
        self.path = path
        self.mapped = mapped
        let fileSize = mapped.count
        let (json, headerEnd) = try mapped.withBytes { bytes in try Self.headerBytes(bytes, file: path) }
        let headerAt = FormatError.Location(file: path, object: "header JSON", offset: 8)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw FormatError.invalidValue(headerAt, reason: "is not valid JSON (\(error.localizedDescription))")
        }
        guard let entries = object as? [String: Any] else {
            throw FormatError.invalidValue(headerAt, reason: "is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        let dataSize = fileSize - headerEnd
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw FormatError.invalidValue(headerAt, reason: "__metadata__ is not an object")
                }
                for (k, v) in m { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            tensors.append(try Self.entry(name, value, file: path, headerEnd: headerEnd, dataSize: dataSize))
        }
        self.tensors = tensors.sorted { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        self.metadata = metadata
    }

    /// The header JSON bytes and the offset where data starts, after checking the header
    /// length against the file size and ``maxHeaderLength``.
    private static func headerBytes(_ bytes: UnsafeRawBufferPointer, file: String) throws(FormatError) -> (Data, Int) {
        var reader = ByteReader(bytes, file: file, context: "header length")
        let lengthAt = reader.location
        let length = try reader.read(UInt64.self)
        let limit = min(UInt64(reader.remaining), maxHeaderLength)
        guard length <= limit else {
            throw .countTooLarge(lengthAt, what: "header length", count: length, limit: limit)
        }
        reader.context = "header JSON"
        let raw = try reader.readBytes(Int(length))
        return (Data(raw), reader.offset)
    }

    /// Validates one header entry: known dtype, non-negative shape, and
    /// `begin <= end <= data size` with `end - begin == product(shape) * dtype size`.
    private static func entry(_ name: String, _ value: Any, file: String, headerEnd: Int,
                              dataSize: Int) throws(FormatError) -> SafetensorsTensorInfo {
        let at = FormatError.Location(file: file, object: "tensor '\(name)'", offset: 8)
        guard let fields = value as? [String: Any] else { throw .invalidValue(at, reason: "entry is not a JSON object") }
        guard let dtypeName = fields["dtype"] as? String else { throw .invalidValue(at, reason: "has no dtype string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .invalidValue(at, reason: "unknown dtype '\(dtypeName)'")
        }
        guard let shapeList = fields["shape"] as? [Any], let shape = integers(shapeList), shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidValue(at, reason: "shape is not a list of non-negative integers")
        }
        guard let offsetList = fields["data_offsets"] as? [Any], let offsets = integers(offsetList), offsets.count == 2 else {
            throw .invalidValue(at, reason: "data_offsets is not a pair of integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw .dataOutOfBounds(at, start: UInt64(headerEnd + max(begin, 0)), byteCount: UInt64(max(end - begin, 0)),
                                   limit: headerEnd + dataSize)
        }
        var expected = dtype.size
        for d in shape {
            let (p, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidValue(at, reason: "byte size of shape \(shape) overflows 64 bits") }
            expected = p
        }
        guard expected == end - begin else {
            throw .invalidValue(at, reason: "shape \(shape) of \(dtype.rawValue) needs \(expected) bytes, "
                                + "but data_offsets [\(begin), \(end)] give \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, file: file,
                                     fileOffset: headerEnd + begin, byteCount: end - begin)
    }

    /// JSON numbers as exact `Int`s, or nil.
    private static func integers(_ list: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in list {
            if let i = v as? Int {
                out.append(i)
            } else if let d = v as? Double, let i = Int(exactly: d) {
                out.append(i)
            } else {
                return nil
            }
        }
        return out
    }
}
