import Formats
import Linalg

/// Reads named tensors from a checkpoint for an architecture loader, remembering which
/// names were used so the loader can report tensors it did not consume.
final class WeightReader {
    let source: any TensorSource
    /// Whether matrices stay in the file's format.
    let format: WeightFormat
    private(set) var used: Set<String> = []

    init(_ source: any TensorSource, format: WeightFormat = .f32) {
        self.source = source
        self.format = format
    }

    var file: String { source.path }

    /// The tensor `name`; throws the source's missing-tensor error (with close names).
    func require(_ name: String) throws -> Tensor {
        used.insert(name)
        return try source.tensor(name)
    }

    /// The tensor `name`, whose shape the file must give as `shape` (checked from the header,
    /// before any element is read or any loop runs over it).
    func require(_ name: String, shape: [Int]) throws -> Tensor {
        if let found = source.shape(of: name), found != shape {
            throw ModelError.tensorShape(file: file, tensor: name, expected: shape, found: found)
        }
        return try require(name)
    }

    /// The matrix `name` of shape `shape`: read in place when ``format`` is native and its type
    /// and row length have kernels (a GGUF block-format or F16/BF16 matrix; a safetensors F16 or
    /// BF16 matrix), else converted to float32.
    func matrix(_ name: String, shape: [Int]) throws -> WeightMatrix {
        guard format == .native, shape.count == 2, source.shape(of: name) == shape else { return .float32(try require(name, shape: shape)) }
        if let gguf = source as? GGUFFile, let info = gguf.tensorInfo(name), RowDot.accepts(info.type, columns: shape[1]) {
            used.insert(name)
            return .quantized(try gguf.quantizedMatrix(name))
        }
        if let checkpoint = source as? SafetensorsCheckpoint, let matrix = try checkpoint.inPlaceMatrix(name) {
            used.insert(name)
            return .quantized(matrix)
        }
        return .float32(try require(name, shape: shape))
    }

    /// The matrix `name` of shape `shape` when the checkpoint has it.
    func optionalMatrix(_ name: String, shape: [Int]) throws -> WeightMatrix? {
        guard source.shape(of: name) != nil else { return nil }
        return try matrix(name, shape: shape)
    }

    /// The tensor `name` when the checkpoint has it.
    func optional(_ name: String) throws -> Tensor? {
        guard source.shape(of: name) != nil else { return nil }
        return try require(name)
    }

    /// The tensor `name` of shape `shape` when the checkpoint has it.
    func optional(_ name: String, shape: [Int]) throws -> Tensor? {
        guard source.shape(of: name) != nil else { return nil }
        return try require(name, shape: shape)
    }

    /// Throws unless the checkpoint holds `tensor(l)` for every layer `l` below `count`, so a
    /// layer count in the metadata larger than the file is an error before anything is sized
    /// from it. Counts the layers present (stopping at the first gap), never `count` itself.
    func requireLayers(_ count: Int, tensor: (Int) -> String) throws {
        var present = 0
        while present < count && has(tensor(present)) { present += 1 }
        guard present == count else {
            throw ModelError.badMetadata(file: file, key: "layer count",
                                         reason: "says \(count) layers but the file has weights for \(present) (no '\(tensor(present))')")
        }
    }

    /// Whether the checkpoint has `name`.
    func has(_ name: String) -> Bool { source.shape(of: name) != nil }

    /// Names the loader never asked for, minus those matching `ignoring` suffixes.
    func unused(ignoring suffixes: [String] = []) -> [String] {
        source.tensorNames.filter { n in !used.contains(n) && !suffixes.contains { n.hasSuffix($0) } }.sorted()
    }
}

extension Tensor {
    /// The transpose of a rank-2 tensor (`[r, c]` → `[c, r]`).
    func transposed2D() -> Tensor {
        precondition(rank == 2, "transpose of shape \(shape)")
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r { for j in 0..<c { dst[j * r + i] = src[i * c + j] } }
            }
        }
        return Tensor(shape: [c, r], scalars: out)
    }

    /// Rows `range` of a rank-2 tensor, or elements `range` of a rank-1 tensor.
    func slice(rows range: Range<Int>) -> Tensor {
        if rank == 1 { return Tensor(shape: [range.count], scalars: Array(scalars[range])) }
        return rows(range)
    }
}
