/// One entry of a GGUF file's tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions in GGUF (`ne`) order: innermost (contiguous) first.
    public let dimensions: [Int]
    /// Element type.
    public let type: GGMLType
    /// Offset of the tensor's data from the start of the data section (as stored in the file).
    public let offset: Int
    /// Offset of the tensor's data from the start of the file.
    public let fileOffset: Int
    /// Size of the tensor's data in bytes.
    public let byteCount: Int

    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int, fileOffset: Int, byteCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.fileOffset = fileOffset
        self.byteCount = byteCount
    }

    /// Row-major shape, outermost first: ``dimensions`` reversed. A GGUF matrix with
    /// `ne = [576, 49152]` has shape `[49152, 576]` (49152 rows of 576).
    public var shape: [Int] { dimensions.reversed() }

    /// Number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }
}
