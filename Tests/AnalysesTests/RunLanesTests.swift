import Analyses
import Foundation
import Testing

@Suite struct RunLanesTests {
    struct Failure: Error, Equatable { let index: Int }

    /// Thread-safe set of the indices a body was called with.
    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [Int] = []
        func add(_ i: Int) { lock.lock(); seen.append(i); lock.unlock() }
        var indices: [Int] { lock.lock(); defer { lock.unlock() }; return seen.sorted() }
    }

    @Test(arguments: [1, 2, 3])
    func resultsComeBackInOrder(lanes: Int) throws {
        let calls = Calls()
        let got = try runLanes(50, lanes: lanes) { i -> Int in
            calls.add(i)
            if i % 7 == 0 { Thread.sleep(forTimeInterval: 0.002) }  // uneven jobs
            return i * i
        }
        #expect(got == (0..<50).map { $0 * $0 })
        #expect(calls.indices == Array(0..<50), "every index exactly once")
    }

    /// After a failure no lane starts another index, and the lowest failing index is thrown
    /// even when a later one failed first.
    @Test(arguments: [1, 2])
    func aFailureStopsTheOtherLanes(lanes: Int) throws {
        let calls = Calls()
        #expect(throws: Failure(index: 3)) {
            _ = try runLanes(1_000, lanes: lanes) { i -> Int in
                calls.add(i)
                if i == 3 { Thread.sleep(forTimeInterval: 0.01); throw Failure(index: 3) }
                if i == 4 { throw Failure(index: 4) }
                return i
            }
        }
        let ran = calls.indices
        #expect(ran.contains(3))
        #expect(ran.count < 20, "lanes went on after the failure: \(ran.count) calls")
    }
}
