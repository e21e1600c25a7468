#if canImport(Glibc)
import Glibc
#endif

/// Process-wide settings of the C allocator, for programs that allocate and free large
/// activation arrays pass after pass.
public enum ProcessMemory {
    /// Lets glibc's malloc reuse freed blocks of up to `mmapThreshold` bytes from its heap and
    /// keep up to `trimThreshold` bytes of free heap, instead of mapping every large block fresh
    /// from the kernel and returning it when freed.
    ///
    /// A forward pass that captures every hook point of the default model at 128 tokens
    /// allocates about 170 MB in 512 arrays of 0.1-0.8 MB. With glibc's defaults each of them is a
    /// new mapping whose pages fault in zero-filled, and is unmapped again when the cache lets
    /// it go: that made such a pass cost 1.35-1.6x a plain one; with these settings the pages
    /// are reused and it costs about 1.1x (`loupe-bench`, README "Speed"). The price is that up
    /// to `trimThreshold` bytes of freed memory stay resident until they are reused.
    ///
    /// Call it once at process start (the `loupe` and `loupe-bench` executables do). Settings
    /// the user made with `GLIBC_TUNABLES`, `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_`
    /// win. Does nothing on other C libraries. glibc caps the mmap threshold at 32 MB.
    /// - Returns: whether glibc took both settings (false when the environment set them, on
    ///   another C library, or when glibc refused a value).
    @discardableResult
    public static func reuseFreedBlocks(mmapThreshold: Int = 32 << 20, trimThreshold: Int = 1 << 30) -> Bool {
        #if canImport(Glibc)
        for name in ["GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"] where getenv(name) != nil { return false }
        // mallopt is in <malloc.h>, which the Glibc module does not import: look it up. Its
        // parameter numbers are glibc's ABI (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3).
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        guard let symbol = dlsym(handle, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let mmap = mallopt(-3, Int32(clamping: min(mmapThreshold, 32 << 20)))
        let trim = mallopt(-1, Int32(clamping: trimThreshold))
        return mmap == 1 && trim == 1
        #else
        return false
        #endif
    }
}
