/// Reads and validates a GGUF header (magic, version, metadata, tensor table) in file
/// order, following llama.cpp's gguf.cpp: every count is bounded by what the rest of the
/// file could hold before anything is allocated for it.
struct GGUFParser {
    /// The parsed header.
    struct Header {
        var version: UInt32
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    /// Smallest possible key/value pair: empty key (8), type (4), one byte of value.
    static let minimumKVSize = 8 + 4 + 1
    /// Smallest possible tensor info: empty name (8), n_dims (4), type (4), offset (8).
    static let minimumTensorInfoSize = 8 + 4 + 4 + 8
    /// ggml's GGML_MAX_NAME: names must be shorter than this.
    static let maxNameLength = 64
    /// ggml's GGML_MAX_DIMS.
    static let maxDimensions = 4
    /// Arrays of arrays deeper than this are rejected (gguf.cpp rejects any nesting).
    static let maxArrayDepth = 3
    static let defaultAlignment = 32

    var reader: ByteReader

    init(_ bytes: UnsafeRawBufferPointer, file: String) {
        reader = ByteReader(bytes, file: file)
    }

    mutating func parse() throws(FormatError) -> Header {
        reader.context = "header (magic)"
        let magicAt = reader.location
        let magic = Array(try reader.readBytes(4))
        guard magic == Array("GGUF".utf8) else {
            throw .badMagic(magicAt, expected: "'GGUF'", found: magic)
        }
        reader.context = "header (version)"
        let versionAt = reader.location
        let version = try reader.read(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(versionAt, version: version) }

        reader.context = "header (tensor count)"
        let tensorCount = try readCount(minimumSize: Self.minimumTensorInfoSize, what: "tensor count")
        reader.context = "header (metadata count)"
        let kvCount = try readCount(minimumSize: Self.minimumKVSize, what: "metadata key/value count")

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(kvCount)
        keys.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            reader.context = "metadata key #\(i)"
            let keyAt = reader.location
            let key = try reader.readString()
            guard metadata[key] == nil else { throw .duplicateName(keyAt, name: key) }
            reader.context = "metadata key '\(key)'"
            let typeAt = reader.location
            let value = try readValue(type: try readValueType(at: typeAt), depth: 0)
            metadata[key] = value
            keys.append(key)
        }

        var alignment = Self.defaultAlignment
        if let a = metadata["general.alignment"] {
            let at = FormatError.Location(file: reader.file, object: "metadata key 'general.alignment'")
            guard case .uint32(let v) = a else {
                throw .invalidValue(at, reason: "alignment must be a uint32, found \(a.typeName)")
            }
            guard v != 0, v & (v - 1) == 0 else {
                throw .invalidValue(at, reason: "alignment \(v) is not a power of two")
            }
            alignment = Int(v)
        }

        var tensors: [GGUFTensorInfo] = []
        var tensorAt: [Int] = []
        var names = Set<String>()
        tensors.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            reader.context = "tensor #\(i)"
            let entryAt = reader.offset
            let info = try readTensorInfo(alignment: alignment)
            guard names.insert(info.name).inserted else {
                throw .duplicateName(FormatError.Location(file: reader.file, object: "tensor #\(i)", offset: entryAt),
                                     name: info.name)
            }
            tensors.append(info)
            tensorAt.append(entryAt)
        }

        // The data section starts at the next multiple of the alignment.
        let end = reader.offset
        let dataOffset = (end + alignment - 1) / alignment * alignment
        let fileSize = reader.bytes.count
        for (i, t) in tensors.enumerated() {
            let start = UInt64(dataOffset) + UInt64(t.offset)
            guard start <= UInt64(fileSize), UInt64(t.byteCount) <= UInt64(fileSize) - start else {
                throw .dataOutOfBounds(FormatError.Location(file: reader.file, object: "tensor '\(t.name)'",
                                                            offset: tensorAt[i]),
                                       start: start, byteCount: UInt64(t.byteCount), limit: fileSize)
            }
            tensors[i] = GGUFTensorInfo(name: t.name, dimensions: t.dimensions, type: t.type, offset: t.offset,
                                        fileOffset: Int(start), byteCount: t.byteCount)
        }
        return Header(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                      alignment: alignment, dataOffset: dataOffset)
    }

    /// Reads a `UInt64` count and checks that `count` items of at least `minimumSize`
    /// bytes each could fit in the rest of the file.
    private mutating func readCount(minimumSize: Int, what: String) throws(FormatError) -> Int {
        let at = reader.location
        let count = try reader.read(UInt64.self)
        let limit = UInt64(reader.remaining / minimumSize)
        guard count <= limit else { throw .countTooLarge(at, what: what, count: count, limit: limit) }
        return Int(count)
    }

    private mutating func readValueType(at: FormatError.Location) throws(FormatError) -> GGUFValueType {
        let raw = try reader.read(UInt32.self)
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .invalidValue(at, reason: "unknown value type id \(raw) (known: 0...12)")
        }
        return type
    }

    private mutating func readValue(type: GGUFValueType, depth: Int) throws(FormatError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read())
        case .int8: return .int8(try reader.read())
        case .uint16: return .uint16(try reader.read())
        case .int16: return .int16(try reader.read())
        case .uint32: return .uint32(try reader.read())
        case .int32: return .int32(try reader.read())
        case .float32: return .float32(try reader.readFloat())
        case .bool: return .bool(try reader.read(UInt8.self) != 0)
        case .string: return .string(try reader.readString())
        case .uint64: return .uint64(try reader.read())
        case .int64: return .int64(try reader.read())
        case .float64: return .float64(try reader.readDouble())
        case .array:
            let typeAt = reader.location
            let elementType = try readValueType(at: typeAt)
            if elementType == .array && depth + 1 >= Self.maxArrayDepth {
                throw .invalidValue(typeAt, reason: "arrays nested deeper than \(Self.maxArrayDepth) levels")
            }
            let count = try readCount(minimumSize: elementType.minimumSize, what: "array element count")
            return .array(GGUFArray(storage: try readElements(type: elementType, count: count, depth: depth + 1)))
        }
    }

    /// `count` elements of `type`, into one typed array (a count already bounded by the file).
    private mutating func readElements(type: GGUFValueType, count: Int, depth: Int) throws(FormatError) -> GGUFArray.Storage {
        func many<T>(_ one: (inout GGUFParser) throws(FormatError) -> T) throws(FormatError) -> [T] {
            var out: [T] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(try one(&self)) }
            return out
        }
        switch type {
        case .uint8: return .uint8(Array(try reader.readBytes(count)))
        case .int8: return .int8(try many { p throws(FormatError) in try p.reader.read() })
        case .uint16: return .uint16(try many { p throws(FormatError) in try p.reader.read() })
        case .int16: return .int16(try many { p throws(FormatError) in try p.reader.read() })
        case .uint32: return .uint32(try many { p throws(FormatError) in try p.reader.read() })
        case .int32: return .int32(try many { p throws(FormatError) in try p.reader.read() })
        case .float32: return .float32(try many { p throws(FormatError) in try p.reader.readFloat() })
        case .bool: return .bool(try many { p throws(FormatError) in try p.reader.read(UInt8.self) != 0 })
        case .string: return .string(try many { p throws(FormatError) in try p.reader.readString() })
        case .uint64: return .uint64(try many { p throws(FormatError) in try p.reader.read() })
        case .int64: return .int64(try many { p throws(FormatError) in try p.reader.read() })
        case .float64: return .float64(try many { p throws(FormatError) in try p.reader.readDouble() })
        case .array:
            return .array(try many { p throws(FormatError) in
                guard case .array(let a) = try p.readValue(type: .array, depth: depth) else { return GGUFArray([]) }
                return a
            })
        }
    }

    private mutating func readTensorInfo(alignment: Int) throws(FormatError) -> GGUFTensorInfo {
        let file = reader.file
        let nameAt = reader.location
        let name = try reader.readString()
        guard name.utf8.count < Self.maxNameLength else {
            throw .invalidValue(nameAt, reason: "tensor name is \(name.utf8.count) bytes; the limit is \(Self.maxNameLength - 1)")
        }
        reader.context = "tensor '\(name)'"
        let at = { (offset: Int) in FormatError.Location(file: file, object: "tensor '\(name)'", offset: offset) }
        let dimsAt = reader.offset
        let nDims = try reader.read(UInt32.self)
        guard nDims <= Self.maxDimensions else {
            throw .invalidValue(at(dimsAt), reason: "has \(nDims) dimensions; at most \(Self.maxDimensions) are allowed")
        }
        var dims: [Int] = []
        var elements = 1
        // The product of the nonzero dimensions must fit too: a zero first would otherwise hide
        // dimensions whose product overflows wherever the shape is multiplied out later.
        var nonzero = 1
        for j in 0..<Int(nDims) {
            let dimAt = reader.offset
            let d = try reader.read(UInt64.self)
            guard d <= UInt64(Int64.max) else {
                throw .invalidValue(at(dimAt), reason: "dimension \(j) is \(d), above the maximum \(Int64.max)")
            }
            let (product, overflow) = nonzero.multipliedReportingOverflow(by: Swift.max(1, Int(d)))
            guard !overflow else {
                throw .invalidValue(at(dimAt), reason: "element count overflows 64 bits at dimension \(j) (\(d))")
            }
            nonzero = product
            elements = d == 0 ? 0 : elements * Int(d)
            dims.append(Int(d))
        }
        let typeAt = reader.offset
        let typeID = try reader.read(UInt32.self)
        guard let type = GGMLType(rawValue: typeID) else { throw .unknownTensorType(at(typeAt), typeID: typeID) }
        let rowLength = dims.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw .invalidValue(at(typeAt), reason: "row length \(rowLength) is not a multiple of \(type)'s block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw .invalidValue(at(typeAt), reason: "byte size of \(elements) \(type) elements overflows 64 bits")
        }
        let offsetAt = reader.offset
        let offset = try reader.read(UInt64.self)
        guard offset % UInt64(alignment) == 0 else {
            throw .invalidValue(at(offsetAt), reason: "data offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        guard offset <= UInt64(reader.bytes.count) else {
            throw .invalidValue(at(offsetAt), reason: "data offset \(offset) lies past the end of the file (\(reader.bytes.count) bytes)")
        }
        return GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset), fileOffset: 0,
                              byteCount: byteCount)
    }
}
