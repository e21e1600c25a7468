#if canImport(Glibc)
import Glibc
#endif
import Linalg
import Testing

/// ``ProcessMemory/reuseFreedBlocks(mmapThreshold:trimThreshold:)``: after it, arrays allocated,
/// written and freed pass after pass take their pages from the heap they were freed to, where
/// glibc's defaults return them to the kernel and fault them in zero-filled again.
@Suite struct ProcessMemoryTests {
    /// Minor page faults of the calling thread so far.
    static func threadFaults() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (Linux), which Glibc does not export
        #endif
        return usage.ru_minflt
    }

    @Test func freedArraysAreReusedWithoutPageFaults() throws {
        #if canImport(Glibc)
        guard getenv("GLIBC_TUNABLES") == nil, getenv("MALLOC_MMAP_THRESHOLD_") == nil, getenv("MALLOC_TRIM_THRESHOLD_") == nil else { return }
        #expect(ProcessMemory.reuseFreedBlocks())
        // Like a pass capturing every hook: 48 arrays of about 1 MB held at once, then all
        // freed. With glibc's defaults the freed heap top is given back (trim threshold about
        // twice the largest freed block) and every round faults ~12,000 pages in again.
        var faults: [Int] = []
        var checksum: Float = 0
        for round in 0..<10 {
            let before = Self.threadFaults()
            var held: [[Float]] = []
            for i in 0..<48 {
                var a = [Float](repeating: 1, count: (1 << 18) + i * 1024)
                a[round] = 2
                held.append(a)
            }
            checksum += held[round][round]
            held.removeAll()
            faults.append(Self.threadFaults() - before)
        }
        #expect(checksum == 20)
        // The median round: other tests' threads may share this thread's arena now and then.
        let median = faults.sorted()[faults.count / 2]
        #expect(median < 64, "minor faults per round \(faults)")
        #endif
    }
}
