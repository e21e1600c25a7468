import Dispatch

/// Converts tensor data of any ``GGMLType/isDequantizable`` type to Float32, splitting
/// the blocks into chunks converted in parallel.
///
/// The arithmetic matches ggml's `dequantize_row_*` (and the Python `gguf` package)
/// operation for operation, so results are bit-identical to theirs.
public enum Dequantize {
    /// A kernel converts `blocks` whole blocks from `source` into `destination`.
    typealias Kernel = @Sendable (_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) -> Void

    /// Elements per parallel work item: big enough to amortise dispatch, small enough to balance.
    static let elementsPerChunk = 1 << 16

    /// `count` elements of `type` read from `bytes`, as Floats.
    /// - Throws: ``FormatError/unsupportedTensorType(_:type:)`` for types without a kernel,
    ///   ``FormatError/invalidValue(_:reason:)`` when `bytes` is not exactly `count` elements.
    public static func floats(_ type: GGMLType, from bytes: UnsafeRawBufferPointer, count: Int) throws(FormatError) -> [Float] {
        try check(type, bytes: bytes.count, count: count)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            run(type, from: bytes, into: out)
            initialized = count
        }
    }

    /// The elements of `type` encoded in `bytes` (a whole number of blocks), as Floats.
    public static func floats(_ type: GGMLType, bytes: [UInt8]) throws(FormatError) -> [Float] {
        let count = bytes.count / type.bytesPerBlock * type.blockSize
        try check(type, bytes: bytes.count, count: count)
        return bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                run(type, from: raw, into: out)
                initialized = count
            }
        }
    }

    /// Converts `bytes` into `destination`, whose count is the number of elements.
    public static func convert(_ type: GGMLType, from bytes: UnsafeRawBufferPointer,
                               into destination: UnsafeMutableBufferPointer<Float>) throws(FormatError) {
        try check(type, bytes: bytes.count, count: destination.count)
        run(type, from: bytes, into: destination)
    }

    static func check(_ type: GGMLType, bytes: Int, count: Int) throws(FormatError) {
        let at = FormatError.Location(file: "(memory)", object: "\(type) data")
        guard type.isDequantizable else { throw .unsupportedTensorType(at, type: type.name) }
        guard let expected = type.byteCount(elements: count), expected == bytes else {
            throw .invalidValue(at, reason: "\(bytes) bytes do not hold exactly \(count) \(type) elements "
                                + "(block size \(type.blockSize), \(type.bytesPerBlock) bytes per block)")
        }
    }

    /// Runs the type's kernel over all blocks, in parallel chunks. Sizes already checked.
    static func run(_ type: GGMLType, from bytes: UnsafeRawBufferPointer,
                            into destination: UnsafeMutableBufferPointer<Float>) {
        let blocks = destination.count / type.blockSize
        guard blocks > 0, let src = bytes.baseAddress, let dst = destination.baseAddress else { return }
        let kernel = Self.kernel(type)
        let blocksPerChunk = max(1, elementsPerChunk / type.blockSize)
        let chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk
        if chunks == 1 { kernel(src, dst, blocks); return }
        let (bpb, bs) = (type.bytesPerBlock, type.blockSize)
        // Chunks write disjoint ranges of `dst` and read `src` only; `concurrentPerform`
        // returns when all are done, so the pointers do not outlive their buffers.
        nonisolated(unsafe) let source = src
        nonisolated(unsafe) let target = dst
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let first = c * blocksPerChunk
            let n = min(blocksPerChunk, blocks - first)
            kernel(source + first * bpb, target + first * bs, n)
        }
    }

    static func kernel(_ type: GGMLType) -> Kernel {
        switch type {
        case .f32: return DequantizeKernels.f32
        case .f16: return DequantizeKernels.f16
        case .bf16: return DequantizeKernels.bf16
        case .q8_0: return DequantizeKernels.q8_0
        case .q4_0: return DequantizeKernels.q4_0
        case .q4_1: return DequantizeKernels.q4_1
        case .q5_0: return DequantizeKernels.q5_0
        case .q5_1: return DequantizeKernels.q5_1
        case .q4_K: return DequantizeKernels.q4_K
        case .q5_K: return DequantizeKernels.q5_K
        case .q6_K: return DequantizeKernels.q6_K
        default: preconditionFailure("no kernel for \(type); check(_:bytes:count:) rejects it")
        }
    }
}
