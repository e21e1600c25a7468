import Foundation

/// A thread-safe memo of piece bytes -> BPE ids. Cleared wholesale when it grows past
/// `capacity`, which keeps memory bounded without per-entry bookkeeping.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int32]] = [:]
    let capacity: Int

    init(capacity: Int = 200_000) { self.capacity = capacity }

    func get(_ key: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func put(_ key: [UInt8], _ value: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = value
    }
}
