import Foundation

/// Calls `body` for `0..<count` on up to `lanes` threads, each taking the next index as it
/// finishes one, and returns the results in order;
/// throws the first error (by index) after every call has returned.
func runLanes<T>(_ count: Int, lanes: Int, _ body: (Int) throws -> T) throws -> [T] {
    if lanes <= 1 || count <= 1 { return try (0..<count).map(body) }
    let results = LaneResults<T>(count: count)
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: min(lanes, count)) { _ in
        // Each lane takes the next index not yet taken; each slot is written by one thread.
        while let i = results.next() { results.set(i, Swift.Result { try body(i) }) }
    }
    return try results.slots.map { try $0!.get() }
}

/// Result slots written from several threads, each slot by one (see ``runLanes(_:lanes:_:)``).
private final class LaneResults<T>: @unchecked Sendable {
    private(set) var slots: [Swift.Result<T, any Error>?]
    private let lock = NSLock()
    private var taken = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    /// The next index no lane has taken, if any.
    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < slots.count else { return nil }
        taken += 1
        return taken - 1
    }
    func set(_ i: Int, _ value: Swift.Result<T, any Error>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }
}
