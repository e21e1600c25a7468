import Linalg

/// A `[rows, columns]` weight matrix as a model holds it: dense float32, or in its file's
/// block format (``QuantizedMatrix``). Linear layers, the unembedding and the token
/// embedding go through it, so code that only multiplies never sees which it is; code that
/// needs the numbers calls ``dense()``, which dequantizes exactly.
public enum WeightMatrix: Sendable {
    /// Float32 weights.
    case float32(Tensor)
    /// Weights in their file's block format, read in place.
    case quantized(QuantizedMatrix)

    /// A dense matrix (`tensor` must be rank 2).
    public init(_ tensor: Tensor) { self = .float32(tensor) }

    /// `[rows, columns]` (a dense tensor's own shape).
    public var shape: [Int] {
        switch self {
        case .float32(let t): return t.shape
        case .quantized(let q): return [q.rows, q.columns]
        }
    }

    /// Output rows (`n`).
    public var rows: Int { shape.first ?? 0 }
    /// Input columns (`k`).
    public var columns: Int { shape.count == 2 ? shape[1] : 0 }
    /// Number of weights.
    public var count: Int { shape.reduce(1, *) }

    /// The storage format: F32 for dense.
    public var storageType: GGMLType {
        if case .quantized(let q) = self { return q.type }
        return .f32
    }

    /// Bytes the weights take in memory (for a mapped matrix, bytes of the file it reads).
    public var storageBytes: Int {
        switch self {
        case .float32(let t): return 4 * t.count
        case .quantized(let q): return q.byteCount
        }
    }

    /// The weights as float32, dequantized on demand (exactly ``Dequantize``'s values). For a
    /// quantized matrix this allocates `4 · count` bytes each call: hoist it out of loops.
    public func dense() -> Tensor {
        switch self {
        case .float32(let t): return t
        case .quantized(let q): return q.dense()
        }
    }

    /// `output[m × rows] = input[m × columns] · Wᵀ` (the linear layer; sgemv for one dense
    /// row, ``ProductKernel/chosen``'s product for more; ``QuantizedMatrix/multiply(_:rows:into:threads:kernels:product:)`` in place).
    public func multiply(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32(let w):
            let (n, k) = (w.shape[0], w.shape[1])
            w.withUnsafeBufferPointer { wp in
                if m == 1 {
                    output.initialize(repeating: 0, count: n)  // sgemv scales y by beta = 0 first
                    BLAS.gemv(n: n, k: k, w: wp.baseAddress!, x: input, y: output)
                } else {
                    ProductKernel.chosen.multiplyTransposed(m: m, n: n, k: k, a: input, b: wp.baseAddress!, c: output)
                }
            }
        case .quantized(let q):
            q.multiply(input, rows: m, into: output)
        }
    }

    /// Whether ``multiply(_:rows:into:)`` reads `m` input rows packed for the AVX-512 product.
    public func readsPackedRows(_ m: Int) -> Bool {
        switch self {
        case .float32: return m >= 2 && ProductKernel.chosen == .avx512 && ProductKernel.avx512.isSupported
        case .quantized(let q): return q.readsPackedRows(m)
        }
    }

    /// `outputs[i][m × matrices[i].rows] = input[m × columns] · matrices[i]ᵀ`: products of one
    /// input (q/k/v, gate/up). Where every product reads packed rows (``readsPackedRows(_:)``),
    /// the input is packed once for all of them; the results are those of
    /// ``multiply(_:rows:into:)`` one by one, bit for bit.
    public static func multiply(_ input: UnsafePointer<Float>, rows m: Int, by matrices: [WeightMatrix],
                                into outputs: [UnsafeMutablePointer<Float>]) {
        precondition(matrices.count == outputs.count, "\(matrices.count) matrices, \(outputs.count) outputs")
        guard let k = matrices.first?.columns, m > 0 else { return }
        precondition(matrices.allSatisfy { $0.columns == k }, "matrices of different widths share an input")
        guard matrices.count > 1, matrices.allSatisfy({ $0.readsPackedRows(m) }) else {
            for (w, out) in zip(matrices, outputs) { w.multiply(input, rows: m, into: out) }
            return
        }
        let packed = PackedRows(input, rows: m, columns: k)
        for (w, out) in zip(matrices, outputs) {
            switch w {
            case .float32(let t):
                t.withUnsafeBufferPointer { packed.multiplyTransposed($0.baseAddress!, rows: w.rows, into: out, ldc: w.rows,
                                                                      threads: BLAS.threadCount) }
            case .quantized(let q):
                q.multiply(packed: packed, into: out)
            }
        }
    }

    /// `x[m × columns] · Wᵀ` as a new `[m, rows]` tensor.
    public func multiply(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == columns, "multiply: \(x.shape) · \(shape)ᵀ")
        var out = Tensor(zeros: [x.shape[0], rows])
        x.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { multiply(a.baseAddress!, rows: x.shape[0], into: $0.baseAddress!) }
        }
        return out
    }

    /// Copies row `i` (dequantized) into `destination` (`columns` floats): an embedding lookup.
    public func copyRow(_ i: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32(let t):
            precondition(i >= 0 && i < rows, "row \(i) of a \(rows)-row matrix")
            t.withUnsafeBufferPointer { destination.update(from: $0.baseAddress! + i * columns, count: columns) }
        case .quantized(let q):
            q.dequantizeRow(i, into: destination)
        }
    }

    /// Row `i` as floats.
    public func row(_ i: Int) -> [Float] {
        guard columns > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: columns) { out, done in
            copyRow(i, into: out.baseAddress!)
            done = columns
        }
    }
}
