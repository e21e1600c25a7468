#if canImport(Glibc)
import Glibc
#endif

/// Marks the calling thread as one of several lanes that already keep every core busy (see
/// `runLanes`), so ``parallelChunks(_:minimumPerChunk:chunks:_:)`` runs its body on that
/// thread in one chunk instead of handing chunks to the worker pool or the dispatch pool:
/// there, a lane's elementwise loops would wake workers that only take the other lanes' cores.
public enum SerialScope {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Whether the calling thread is inside ``run(_:)``.
    public static var isActive: Bool { pthread_getspecific(key) != nil }

    /// Runs `body` with ``isActive`` true on the calling thread (restored afterwards).
    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        return try body()
    }
}
