/// What the communicator refuses or reports; each message names the call, the rank or the value.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code.
    case mpi(call: String, code: Int)
    /// Ranks disagree on something they must share (settings, sizes); names the ranks.
    case mismatch(String)
    /// A buffer too large for one MPI call, or a rank outside the job.
    case invalid(String)
    /// Another rank met an error (the lowest such rank and its message), so this rank stops too.
    case failedElsewhere(rank: Int, message: String)

    public var description: String {
        switch self {
        case let .mpi(call, code): return "\(call) failed with MPI error \(code)"
        case .mismatch(let s): return s
        case .invalid(let s): return s
        case let .failedElsewhere(rank, message): return "rank \(rank) failed: \(message)"
        }
    }
}
