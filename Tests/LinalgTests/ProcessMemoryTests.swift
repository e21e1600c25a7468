#if canImport(Glibc)
import Glibc
#endif
import Linalg
import Testing

/// ``ProcessMemory/reuseFreedBlocks(mmapThreshold:trimThreshold:)`` on glibc: both settings are
/// taken (the `mallopt` lookup and the parameter numbers are right), and an mmap threshold above
/// glibc's 32 MB cap is clamped rather than refused.
///
/// What the settings buy is measured, not asserted here: in a test process other threads share
/// malloc arenas and glibc unmaps whole per-thread heaps regardless of the trim threshold, so
/// page-fault counts vary (a 48 x 1 MB round faulted 0 pages on the main thread of a small
/// program and thousands inside the full suite). `loupe-bench` shows the effect on a pass that
/// captures every hook (README "Speed": 1.03-1.10x a plain pass, 1.30-1.57x without).
@Suite struct ProcessMemoryTests {
    @Test func glibcTakesBothSettings() throws {
        #if canImport(Glibc)
        guard getenv("GLIBC_TUNABLES") == nil, getenv("MALLOC_MMAP_THRESHOLD_") == nil, getenv("MALLOC_TRIM_THRESHOLD_") == nil else { return }
        #expect(ProcessMemory.reuseFreedBlocks())
        #expect(ProcessMemory.reuseFreedBlocks(mmapThreshold: 1 << 40, trimThreshold: 1 << 30))
        #endif
    }
}
