import ArgumentParser
import Cluster
import Foundation

extension Communicator {
    /// Runs a command's `body` over the job's ranks: MPI's world when `forced` (`--mpi`) or
    /// when `mpirun`/`srun` started the process, else the single process. An error every rank
    /// met together is printed with the rank and ends the job normally; one met by some ranks
    /// only (the others would wait in a collective) ends every rank with `MPI_Abort`.
    static func runCommand(forced: Bool, _ body: (Communicator) throws -> Void) throws {
        let communicator = try forced || launchedByMPI() ? world() : single
        defer { communicator.finalize() }
        if communicator.size == 1 { return try body(communicator) }
        do { try body(communicator) } catch {
            guard communicator.agreedFailure else { communicator.abort("\(error)") }
            FileHandle.standardError.write(Data("rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
