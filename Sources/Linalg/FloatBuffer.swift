/// A fixed-size, zero-initialised Float32 scratch buffer that owns its memory.
///
/// The forward pass keeps its activations in these so that kernels and sgemm get stable
/// pointers without nested `withUnsafe…` closures or copy-on-write checks. The pointer is
/// valid for as long as the buffer is alive; never let it escape the buffer's owner.
public final class FloatBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// A copy of elements `range` as an array.
    public func array(_ range: Range<Int>) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range \(range) of buffer of \(count)")
        return Array(UnsafeBufferPointer(start: pointer + range.lowerBound, count: range.count))
    }

    /// Overwrites elements from `offset` with `values`.
    public func write(_ values: [Float], at offset: Int) {
        precondition(offset >= 0 && offset + values.count <= count, "write of \(values.count) at \(offset) into buffer of \(count)")
        values.withUnsafeBufferPointer { (pointer + offset).update(from: $0.baseAddress!, count: values.count) }
    }
}

/// Splits `0..<count` into up to `chunks` contiguous ranges and runs `body` on them in
/// parallel (when there is enough work), for row-wise kernels. Inside a ``SerialScope`` the
/// body runs once, on the caller, over the whole range.
public func parallelChunks(_ count: Int, minimumPerChunk: Int = 1, chunks: Int = ProcessorInfo.cores,
                           _ body: (Range<Int>) -> Void) {
    let n = max(1, min(chunks, count / max(minimumPerChunk, 1)))
    if n <= 1 || SerialScope.isActive { body(0..<count); return }
    let per = (count + n - 1) / n
    // The chunks are disjoint and both the pool and `concurrentPerform` return only when all
    // are done, so sharing `body` (and the buffers it writes) across the workers is safe, and
    // it does not outlive this call.
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        let chunk: @Sendable (Int) -> Void = { i in
            let lo = i * per, hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
        // The spinning workers (``WorkerPool``) when free, else the dispatch pool.
        if let pool = WorkerPool.shared, pool.run(n, chunk) { return }
        DispatchQueue.concurrentPerform(iterations: n, execute: chunk)
    }
}

import Dispatch
#if canImport(Glibc)
import Glibc
#endif
