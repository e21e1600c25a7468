import Formats
import Linalg

/// Reads named tensors from a checkpoint for an architecture loader, remembering which
/// names were used so the loader can report tensors it did not consume.
final class WeightReader {
    let source: any TensorSource
    private(set) var used: Set<String> = []

    init(_ source: any TensorSource) { self.source = source }

    var file: String { source.path }

    /// The tensor `name`; throws the source's missing-tensor error (with close names).
    func require(_ name: String) throws -> Tensor {
        used.insert(name)
        return try source.tensor(name)
    }

    /// The tensor `name` when the checkpoint has it.
    func optional(_ name: String) throws -> Tensor? {
        guard source.shape(of: name) != nil else { return nil }
        return try require(name)
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
