import Linalg

/// Dot products of float32 vectors with rows of GGUF weights read in place (no activation
/// quantization): the single-row path of ``QuantizedMatrix``. The input is first put into
/// the kernel's element order (``Prepared``); then each row costs one pass over its bytes.
/// Each ``KernelSet`` has a kernel per type: the generic Swift kernels take the input in
/// their lane order, the AVX2 kernels in file order.
public enum RowDot {
    /// Whether `type` has a row-dot kernel: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F16, BF16.
    public static func supports(_ type: GGMLType) -> Bool { generic(type) != nil }

    /// Row lengths `type`'s kernel takes: a multiple of 32 elements (and of the block size).
    public static func accepts(_ type: GGMLType, columns: Int) -> Bool {
        supports(type) && columns > 0 && columns % 32 == 0 && columns % type.blockSize == 0
    }

    /// A row-dot kernel and the order it takes its input in.
    struct Kernel {
        let run: RowDotKernels.Kernel
        /// The generic kernels' lane order (``source(_:position:)``) rather than file order.
        let lanes: Bool
    }

    /// `type`'s kernel in `set` (which must be supported on this CPU).
    static func kernel(_ type: GGMLType, _ set: KernelSet = .active) -> Kernel? {
        if set == .avx2, let run = AVX2Kernels.rowDot(type) { return Kernel(run: run, lanes: false) }
        return generic(type).map { Kernel(run: $0, lanes: true) }
    }

    static func generic(_ type: GGMLType) -> RowDotKernels.Kernel? {
        switch type {
        case .q8_0: return RowDotKernels.q8_0
        case .q4_0: return RowDotKernels.q4_0
        case .q4_1: return RowDotKernels.q4_1
        case .q5_0: return RowDotKernels.q5_0
        case .q5_1: return RowDotKernels.q5_1
        case .q4_K: return RowDotKernels.q4_K
        case .q5_K: return RowDotKernels.q5_K
        case .q6_K: return RowDotKernels.q6_K
        case .f16: return RowDotKernels.f16
        case .bf16: return RowDotKernels.bf16
        default: return nil
        }
    }

    /// Where element `i` of a 32-element group sits in the kernels' order (see ``RowDotKernels``).
    static func source(_ type: GGMLType, position i: Int) -> Int {
        let (t, lane) = (i / 4, i % 4)
        switch type {
        case .f16, .bf16: return 8 * (t / 2) + 2 * lane + t % 2
        default: return 16 * (t / 4) + 4 * lane + t % 4
        }
    }

    /// One input row in a kernel's order, with the float sum of each 32-element group.
    struct Prepared {
        var x: [Float]
        var sums: [Float]

        init(_ type: GGMLType, _ input: UnsafePointer<Float>, count k: Int, lanes: Bool) {
            if lanes {
                let order = (0..<32).map { RowDot.source(type, position: $0) }
                x = [Float](unsafeUninitializedCapacity: k) { out, done in
                    for g in stride(from: 0, to: k, by: 32) {
                        for i in 0..<32 { out[g + i] = input[g + order[i]] }
                    }
                    done = k
                }
            } else {
                x = Array(UnsafeBufferPointer(start: input, count: k))
            }
            sums = Self.groupSums(input, count: k)
        }

        /// The float sum of each 32-element group of `input` (summed in Double).
        static func groupSums(_ input: UnsafePointer<Float>, count k: Int) -> [Float] {
            (0..<(k / 32)).map { g in
                var s = 0.0
                for i in 0..<32 { s += Double(input[32 * g + i]) }
                return Float(s)
            }
        }

        /// The dot of this input with the row at `row` (`k / blockSize` whole blocks).
        @inline(__always)
        func dot(_ kernel: Kernel, row: UnsafeRawPointer) -> Float {
            x.withUnsafeBufferPointer { xp in
                sums.withUnsafeBufferPointer { sp in kernel.run(row, xp.baseAddress!, sp.baseAddress!, xp.count / 32) }
            }
        }
    }

    /// `Σ_k W[k] · x[k]` for one row `W` of `type` encoded in `row`, with float32 arithmetic,
    /// by `kernels`' kernel.
    /// - Throws: ``FormatError/unsupportedTensorType(_:type:)`` without a kernel or for a
    ///   kernel set this CPU lacks, ``FormatError/invalidValue(_:reason:)`` when `row` does not
    ///   hold exactly `x.count` elements.
    public static func dot(_ type: GGMLType, row: [UInt8], x: [Float], kernels: KernelSet = .active) throws(FormatError) -> Float {
        let at = FormatError.Location(file: "(memory)", object: "\(type) row")
        guard kernels.isSupported else { throw .unsupportedTensorType(at, type: "\(kernels.rawValue) kernels on this CPU") }
        guard let kernel = kernel(type, kernels) else { throw .unsupportedTensorType(at, type: type.name) }
        guard accepts(type, columns: x.count), type.byteCount(elements: x.count) == row.count else {
            throw .invalidValue(at, reason: "\(row.count) bytes do not hold \(x.count) \(type) elements in whole 32-element groups")
        }
        let prepared = x.withUnsafeBufferPointer { Prepared(type, $0.baseAddress!, count: x.count, lanes: kernel.lanes) }
        return row.withUnsafeBytes { prepared.dot(kernel, row: $0.baseAddress!) }
    }
}
