import CMPI
import Foundation

/// The processes of one job and the collective operations a decomposition needs: sums over
/// all ranks (all-reduce), a broadcast from one rank and a gather to one rank.
///
/// ``single`` is the one-process job (every operation is the identity, no MPI call is made);
/// ``world()`` is `MPI_COMM_WORLD`, initialised on first use when the process was started by
/// `mpirun`/`srun` (``launchedByMPI``). Only this module touches MPI.
public final class Communicator: @unchecked Sendable {
    /// This process, `0..<size`.
    public let rank: Int
    /// Processes in the job.
    public let size: Int
    private let mpi: Bool
    /// Whether every rank met the last error together (``agree(on:what:)`` or
    /// ``agreeOnErrors(_:)`` threw on every rank), so the job can end without `MPI_Abort`.
    public private(set) var agreedFailure = false

    private init(rank: Int, size: Int, mpi: Bool) {
        (self.rank, self.size, self.mpi) = (rank, size, mpi)
    }

    /// The job of one process.
    public static let single = Communicator(rank: 0, size: 1, mpi: false)

    /// Whether an MPI launcher started this process: Open MPI's `OMPI_COMM_WORLD_SIZE`, or
    /// PMIx's `PMIX_RANK` (Slurm's `srun --mpi=pmix`).
    public static func launchedByMPI(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    nonisolated(unsafe) private static var shared: Communicator?
    private static let lock = NSLock()

    /// `MPI_COMM_WORLD`, calling `MPI_Init_thread` the first time (the calling thread is the
    /// only one that makes MPI calls).
    /// - Throws: ``ClusterError/mpi(call:code:)`` when MPI cannot start.
    public static func world() throws -> Communicator {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, loupe_mpi_thread_funneled(), &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(loupe_mpi_comm_world(), &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(loupe_mpi_comm_world(), &size), "MPI_Comm_size")
        let world = Communicator(rank: Int(rank), size: Int(size), mpi: true)
        shared = world
        return world
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code == loupe_mpi_success() else { throw ClusterError.mpi(call: call, code: Int(code)) }
    }

    /// Largest element count of one MPI call (MPI counts are 32-bit).
    static let callLimit = 1 << 30

    /// Replaces `buffer` on every rank by its elementwise sum over all ranks.
    public func allReduceSum(_ buffer: inout [Double]) throws {
        try allReduce(&buffer, operation: loupe_mpi_sum())
    }

    /// Replaces `buffer` on every rank by its elementwise minimum over all ranks.
    public func allReduceMin(_ buffer: inout [Double]) throws {
        try allReduce(&buffer, operation: loupe_mpi_min())
    }

    private func allReduce(_ buffer: inout [Double], operation: MPI_Op) throws {
        guard mpi, size > 1, !buffer.isEmpty else { return }
        try buffer.withUnsafeMutableBufferPointer { b in
            for start in stride(from: 0, to: b.count, by: Self.callLimit) {
                let count = Int32(min(Self.callLimit, b.count - start))
                try Self.check(MPI_Allreduce(loupe_mpi_in_place(), b.baseAddress! + start, count, loupe_mpi_double(),
                                             operation, loupe_mpi_comm_world()), "MPI_Allreduce")
            }
        }
    }

    /// Replaces `buffer` on every rank by its elementwise sum over all ranks, summed in Double.
    public func allReduceSum(_ buffer: inout [Float]) throws {
        guard mpi, size > 1, !buffer.isEmpty else { return }
        var wide = buffer.map(Double.init)
        try allReduceSum(&wide)
        for i in buffer.indices { buffer[i] = Float(wide[i]) }
    }

    /// Replaces `buffer` on every rank by rank `root`'s (all ranks pass the same count).
    public func broadcast(_ buffer: inout [Double], from root: Int = 0) throws {
        guard mpi, size > 1, !buffer.isEmpty else { return }
        guard (0..<size).contains(root) else { throw ClusterError.invalid("broadcast root \(root) is outside 0..<\(size)") }
        try buffer.withUnsafeMutableBufferPointer { b in
            for start in stride(from: 0, to: b.count, by: Self.callLimit) {
                let count = Int32(min(Self.callLimit, b.count - start))
                try Self.check(MPI_Bcast(b.baseAddress! + start, count, loupe_mpi_double(), Int32(root), loupe_mpi_comm_world()), "MPI_Bcast")
            }
        }
    }

    /// Every rank's `values` (of any count), in rank order, on rank `root`; `[]` on the others.
    /// - Throws: ``ClusterError/invalid(_:)`` when the ranks' values together exceed 2³¹.
    public func gather(_ values: [Float], to root: Int = 0) throws -> [[Float]] {
        try gatherv(values, type: loupe_mpi_float(), to: root)
    }

    /// Every rank's `values` (of any count), in rank order, on rank `root`; `[]` on the others.
    /// - Throws: ``ClusterError/invalid(_:)`` when the ranks' values together exceed 2³¹.
    public func gather(_ values: [Double], to root: Int = 0) throws -> [[Double]] {
        try gatherv(values, type: loupe_mpi_double(), to: root)
    }

    private func gatherv<T: BinaryFloatingPoint>(_ values: [T], type: MPI_Datatype, to root: Int) throws -> [[T]] {
        guard mpi, size > 1 else { return [values] }
        guard (0..<size).contains(root) else { throw ClusterError.invalid("gather root \(root) is outside 0..<\(size)") }
        var counts = [Double](repeating: 0, count: size)
        counts[rank] = Double(values.count)
        try allReduceSum(&counts)
        let total = counts.reduce(0, +)
        guard total < Double(Int32.max) else {
            throw ClusterError.invalid("a gather of \(Int(total)) values exceeds MPI's 2^31 count; use fewer tokens per job")
        }
        let sizes = counts.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<size { displacements[r] = displacements[r - 1] + sizes[r - 1] }
        var all = [T](repeating: 0, count: rank == root ? Int(total) : 0)
        try values.withUnsafeBufferPointer { v in
            try all.withUnsafeMutableBufferPointer { out in
                try Self.check(MPI_Gatherv(v.baseAddress, Int32(values.count), type, out.baseAddress, sizes,
                                           displacements, type, Int32(root), loupe_mpi_comm_world()), "MPI_Gatherv")
            }
        }
        guard rank == root else { return [] }
        return (0..<size).map { r in Array(all[Int(displacements[r])..<Int(displacements[r] + sizes[r])]) }
    }

    /// Rank `root`'s `text` on every rank (the other ranks' `text` is ignored).
    public func broadcast(text: String, from root: Int = 0) throws -> String {
        guard mpi, size > 1 else { return text }
        var count = [Double(rank == root ? text.utf8.count : 0)]
        try broadcast(&count, from: root)
        var bytes = rank == root ? text.utf8.map(Double.init) : [Double](repeating: 0, count: Int(count[0]))
        try broadcast(&bytes, from: root)
        return String(decoding: bytes.map { UInt8($0) }, as: UTF8.self)
    }

    /// Runs `body` on every rank and agrees on the outcome, so that no rank goes on into a
    /// collective while another has thrown: when `body` throws on any rank, every rank throws,
    /// the failing ranks their own error and the others ``ClusterError/failedElsewhere(rank:message:)``
    /// carrying the lowest failing rank's message. Every rank must call it at the same point.
    public func agreeOnErrors<T>(_ body: () throws -> T) throws -> T {
        guard mpi, size > 1 else { return try body() }
        var outcome: Swift.Result<T, any Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        var failed = [Double](repeating: 0, count: size)
        if case .failure = outcome { failed[rank] = 1 }
        try allReduceSum(&failed)
        guard let first = failed.firstIndex(where: { $0 > 0 }) else { return try outcome.get() }
        agreedFailure = true
        var message = ""
        if case .failure(let error) = outcome { message = "\(error)" }
        message = try broadcast(text: message, from: first)
        if case .failure(let error) = outcome { throw error }
        throw ClusterError.failedElsewhere(rank: first, message: message)
    }

    /// Checks that every rank passes the same `text` (settings, sizes): compares 64-bit hashes.
    /// - Throws: ``ClusterError/mismatch(_:)`` on every rank, naming the ranks whose `what`
    ///   differs from rank 0's.
    public func agree(on text: String, what: String) throws {
        guard mpi, size > 1 else { return }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var slots = [Double](repeating: 0, count: 4 * size)
        for p in 0..<4 { slots[4 * rank + p] = Double((hash >> (16 * UInt64(p))) & 0xffff) }
        try allReduceSum(&slots)
        let differing = (1..<size).filter { r in (0..<4).contains { slots[4 * r + $0] != slots[$0] } }
        guard differing.isEmpty else {
            agreedFailure = true
            let names = differing.map(String.init).joined(separator: ", ")
            throw ClusterError.mismatch("rank\(differing.count > 1 ? "s" : "") \(names) of \(size) \(differing.count > 1 ? "have" : "has") \(what) different from rank 0's: start every rank with the same command and input")
        }
    }

    /// Waits until every rank reaches this call.
    public func barrier() throws {
        guard mpi, size > 1 else { return }
        try Self.check(MPI_Barrier(loupe_mpi_comm_world()), "MPI_Barrier")
    }

    /// Ends MPI (`MPI_Finalize`) when ``world()`` started it; no MPI call may follow.
    public func finalize() {
        guard mpi else { return }
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if Self.shared != nil { _ = MPI_Finalize(); Self.shared = nil }
    }

    /// Prints `message` naming this rank and ends every rank of the job (`MPI_Abort`): for an
    /// error one rank meets alone, which would leave the others waiting in a collective.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): \(message)\n".utf8))
        if mpi { _ = MPI_Abort(loupe_mpi_comm_world(), code) }
        exit(code)
    }
}
