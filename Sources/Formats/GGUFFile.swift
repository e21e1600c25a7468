import Linalg

/// A GGUF (v2 or v3) model file: its metadata and tensor table, with tensor data read
/// from a memory mapping on demand.
///
/// The whole header is validated when the file is opened (see ``init(path:)``), so the
/// accessors below never read outside the file.
public struct GGUFFile: Sendable {
    /// The path the file was opened with.
    public let path: String
    /// GGUF format version: 2 or 3.
    public let version: UInt32
    /// Metadata by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor table, in file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    /// Size of the file in bytes.
    public var fileSize: Int { file.count }

    private let file: MappedFile
    private let index: [String: Int]

    /// Opens, maps and validates the GGUF file at `path`.
    ///
    /// Checks, in file order: magic, version (2 or 3), tensor and metadata counts against
    /// the bytes left, string lengths and UTF-8 (invalid UTF-8 is an error, not replaced),
    /// duplicate keys, value types, `general.alignment` (a power-of-two `uint32`), and per
    /// tensor: name length (< 64 bytes), duplicate names, at most 4 dimensions, element-count
    /// and byte-size overflow, known type id, row length a multiple of the block size,
    /// offset aligned, and data inside the file. Zero-sized dimensions are allowed, as in gguf.cpp.
    /// - Throws: ``FormatError`` naming the file, the field and the byte offset.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let header = try file.withBytes { bytes throws(FormatError) in
            var parser = GGUFParser(bytes, file: path)
            return try parser.parse()
        }
        self.path = path
        self.file = file
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// The table entry for `name`, or nil.
    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// Calls `body` with the raw (still quantized) bytes of tensor `name`.
    /// The buffer is valid only inside `body`.
    /// - Throws: ``FormatError/missingTensor(file:name:closeMatches:)``, or what `body` throws.
    public func rawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try require(name)
        return try file.withBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[info.fileOffset..<(info.fileOffset + info.byteCount)]))
        }
    }

    /// Tensor `name` converted to Float32, with row-major ``GGUFTensorInfo/shape``.
    /// - Throws: ``FormatError/missingTensor(file:name:closeMatches:)``, or
    ///   ``FormatError/unsupportedTensorType(_:type:)`` for types ``Dequantize`` cannot convert.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try require(name)
        guard info.type.isDequantizable else {
            throw FormatError.unsupportedTensorType(location(info), type: info.type.name)
        }
        let scalars = try file.withBytes { all in
            try Dequantize.floats(info.type, from: UnsafeRawBufferPointer(
                rebasing: all[info.fileOffset..<(info.fileOffset + info.byteCount)]), count: info.elementCount)
        }
        return Tensor(shape: info.shape, scalars: scalars)
    }

    /// Tensor `name` as a ``QuantizedMatrix`` read in place from the mapping (which it keeps
    /// alive): a rank-2 tensor of a type and row length ``RowDot`` takes.
    /// - Throws: ``FormatError/missingTensor(file:name:closeMatches:)``, or
    ///   ``FormatError/unsupportedTensorType(_:type:)`` for other types, shapes or row lengths.
    public func quantizedMatrix(_ name: String) throws(FormatError) -> QuantizedMatrix {
        let info = try require(name)
        guard info.shape.count == 2 else {
            throw .unsupportedTensorType(location(info), type: "\(info.type.name) of shape \(info.shape) (a matrix has 2 dimensions)")
        }
        return try QuantizedMatrix(type: info.type, rows: info.shape[0], columns: info.shape[1],
                                   file: file, offset: info.fileOffset, name: name)
    }

    private func require(_ name: String) throws(FormatError) -> GGUFTensorInfo {
        guard let info = tensorInfo(name) else {
            throw .missingTensor(file: path, name: name, among: tensors.map(\.name))
        }
        return info
    }

    private func location(_ info: GGUFTensorInfo) -> FormatError.Location {
        FormatError.Location(file: path, object: "tensor '\(info.name)'", offset: info.fileOffset)
    }
}

extension GGUFFile: TensorSource {
    /// Tensor names in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// Row-major shape of tensor `name`, or nil when there is none.
    public func shape(of name: String) -> [Int]? { tensorInfo(name)?.shape }
}
