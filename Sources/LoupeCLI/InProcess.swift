import ArgumentParser
import Linalg

extension Loupe {
    /// The arguments of the command running in process on this task (nil: this process's own).
    @TaskLocal static var invocation: [String]? = nil

    /// Runs `loupe <arguments>` inside this process (tests, the notebook runner) and returns
    /// what it printed on stdout. Reports record `arguments` as the command that made them.
    public static func runInProcess(_ arguments: [String]) throws -> String {
        let (output, error) = runInProcessKeepingOutput(arguments)
        if let error { throw error }
        return output
    }

    /// ``runInProcess(_:)`` that returns what the command printed also when it fails.
    /// OpenBLAS's thread count is process-wide: a command's `--threads` lasts only as long as
    /// the command.
    public static func runInProcessKeepingOutput(_ arguments: [String]) -> (output: String, error: (any Error)?) {
        var failure: (any Error)? = nil
        let threads = BLAS.threadCount
        defer { BLAS.setThreadCount(threads) }
        let output = $invocation.withValue(arguments) {
            Console.capturing {
                do {
                    var command = try parseAsRoot(arguments)
                    try command.run()
                } catch {
                    failure = error
                }
            }
        }
        return (output, failure)
    }
}

/// The command line that is running, quoted so it can be pasted back into a shell.
func commandLine() -> String {
    (["loupe"] + (Loupe.invocation ?? Array(CommandLine.arguments.dropFirst()))).map { arg in
        arg.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,".contains($0) } ? arg
            : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
}
