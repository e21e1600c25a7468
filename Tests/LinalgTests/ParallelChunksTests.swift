import Dispatch
import Foundation
import Linalg
import Synchronization
import Testing

/// `parallelChunks` over the spinning `WorkerPool`: every index runs exactly once whatever the
/// chunking, also when several threads call at once (one gets the pool, the others fall back
/// to the dispatch pool) and when a chunk calls `parallelChunks` itself; and chunks do run on
/// a thread other than the caller's on a machine with two cores.
@Suite struct ParallelChunksTests {
    /// Runs `parallelChunks` over `count` items and returns how often each ran.
    static func visits(_ count: Int, minimumPerChunk: Int, chunks: Int) -> [Int] {
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        seen.initialize(repeating: 0)
        defer { seen.deallocate() }
        nonisolated(unsafe) let s = seen
        parallelChunks(count, minimumPerChunk: minimumPerChunk, chunks: chunks) { range in
            for i in range { s[i] += 1 }
        }
        return Array(seen)
    }

    @Test func everyIndexRunsOnceForAnyChunking() {
        for (count, minimum, chunks) in [(1, 1, 8), (7, 1, 2), (1000, 16, 2), (1000, 16, 8), (1000, 1, 64), (5, 1, 5), (4096, 64, 3)] {
            #expect(Self.visits(count, minimumPerChunk: minimum, chunks: chunks) == [Int](repeating: 1, count: count),
                    "count \(count) minimum \(minimum) chunks \(chunks)")
        }
    }

    @Test func concurrentAndNestedCallersEachRunEveryIndexOnce() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<200 {
                let count = 50 + (caller * 37 + round * 11) % 300
                if Self.visits(count, minimumPerChunk: 4, chunks: 2 + round % 7) != [Int](repeating: 1, count: count) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        // A chunk that splits its own range again.
        let total = Atomic<Int>(0)
        parallelChunks(64, chunks: 4) { outer in
            for _ in outer {
                parallelChunks(100, minimumPerChunk: 10, chunks: 4) { inner in total.add(inner.count, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 64 * 100)
    }

    @Test(.enabled(if: ProcessorInfo.cores > 1, "one core: nothing runs in parallel")) func chunksRunOnAnotherThreadToo() {
        let caller = pthread_self(), others = Atomic<Int>(0)
        // Chunks long enough that a worker (spinning, or woken) claims some before the caller is done.
        for _ in 0..<20 where others.load(ordering: .relaxed) == 0 {
            parallelChunks(64, chunks: 64) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { others.add(1, ordering: .relaxed) }
                usleep(200)
            }
        }
        #expect(others.load(ordering: .relaxed) > 0, "no chunk ran on another thread")
    }
}
