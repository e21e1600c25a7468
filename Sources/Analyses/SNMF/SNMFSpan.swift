import Cluster

/// Where a streamed fit's rows sit among the rows of all ranks: this rank holds rows
/// `first..<first + n` of `total`, and every sum over tokens is all-reduced over `communicator`.
struct SNMFSpan {
    let communicator: Communicator
    let first: Int
    let total: Int

    /// All `n` rows on one process.
    static func whole(_ n: Int) -> SNMFSpan { SNMFSpan(communicator: .single, first: 0, total: n) }

    var distributed: Bool { communicator.size > 1 }
}
