import Foundation
import Linalg

/// Calls `body` for `0..<count` on up to `lanes` threads, each lane taking the next index as
/// it finishes one, and returns the results in order. After a call throws no lane starts a
/// new index; the calls already running finish, and the error with the lowest index is
/// thrown. With one lane this is `(0..<count).map(body)`. With more, each lane runs in a
/// ``SerialScope``: the lanes keep the cores busy, so a lane's own loops stay on its thread.
public func runLanes<T>(_ count: Int, lanes: Int, _ body: (Int) throws -> T) throws -> [T] {
    if lanes <= 1 || count <= 1 { return try (0..<count).map(body) }
    let results = LaneResults<T>(count: count)
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: min(lanes, count)) { _ in
        SerialScope.run {
            while let i = results.next() { results.set(i, Swift.Result { try body(i) }) }
        }
    }
    return try results.collect()
}

/// Result slots written from several threads, each slot by one (see ``runLanes(_:lanes:_:)``).
private final class LaneResults<T>: @unchecked Sendable {
    private var slots: [Swift.Result<T, any Error>?]
    private let lock = NSLock()
    private var taken = 0
    private var failed = false
    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next index no lane has taken; nil when all are taken or a call has failed.
    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < slots.count, !failed else { return nil }
        taken += 1
        return taken - 1
    }

    func set(_ i: Int, _ value: Swift.Result<T, any Error>) {
        lock.lock()
        slots[i] = value
        if case .failure = value { failed = true }
        lock.unlock()
    }

    /// The values in order, or the failure with the lowest index (called after every lane ended).
    func collect() throws -> [T] {
        for case .failure(let error)? in slots { throw error }
        return slots.map { slot in
            guard case .success(let value)? = slot else { preconditionFailure("a lane left index unset without a failure") }
            return value
        }
    }
}
