import ArgumentParser
import Foundation
import Linalg

extension Loupe {
    /// `loupe notebook`: runs the commands of text notebooks.
    struct NotebookCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notebook",
            abstract: "Run text notebooks: Markdown whose ```sh blocks hold loupe commands.",
            subcommands: [RunNotebook.self])
    }

    struct RunNotebook: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run every loupe command of a notebook and write (or check) its outputs.",
            discussion: """
            A cell is a ```sh block holding one line that starts with `loupe`; the ```text \
            block right after it holds what the command printed on stdout (progress on stderr \
            is not recorded; a command that fails records `error: <message>`). Commands run \
            inside this process, one after another, from the current directory: run notebooks \
            from the repository root. `$SCRATCH` in a command is replaced by a fresh empty \
            folder for the notebook (for stores and other files the notebook makes), and the \
            folder's path in outputs is written back as `$SCRATCH`.

            Without --check the notebook file is rewritten with the new outputs. With --check \
            nothing is written and the command fails when an output differs from the recorded \
            one: text must match apart from runs of spaces, numbers within --rtol (relative) \
            plus --atol (absolute). A notebook may set its own tolerances with a line \
            `<!-- notebook: rtol=0.01 atol=0.001 -->`, and a cell with such a line starting \
            `<!-- cell:` right before its ```sh block (e.g. atol=1 for percentages printed as \
            whole numbers, whose rounding can flip when the last bits of a BLAS build differ).
            """)

        @Argument(help: "Notebook files (.md).") var files: [String]
        @Flag(help: "Compare outputs with the recorded ones instead of writing them; fail on a difference.") var check = false
        @Option(help: "Relative tolerance for numbers with --check.") var rtol = 1e-3
        @Option(help: "Absolute tolerance for numbers with --check.") var atol = 1e-6

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one notebook file") }
            if !(rtol >= 0) || !(atol >= 0) { throw ValidationError("--rtol and --atol must be >= 0") }
        }

        func run() throws {
            var failures = 0
            // Outputs' last digits depend on these; a --check log should say which ran.
            notice("OpenBLAS \(BLAS.coreName) kernels, \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s"), "
                   + "many-row products by \(ProductKernel.chosen.rawValue)")
            for path in files { failures += try runNotebook(path) }
            if failures > 0 {
                Console.out("\(failures) cell\(failures == 1 ? "" : "s") differ")
                throw ExitCode.failure
            }
        }

        /// The notebooks running in this task, outermost first: a cell that runs a notebook
        /// already in the chain would recurse until the stack overflows.
        @TaskLocal static var chain: [String] = []

        /// Runs one notebook; returns how many cells differ (with --check).
        func runNotebook(_ path: String) throws -> Int {
            let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if Self.chain.contains(canonical) {
                throw ValidationError("notebook \(path) runs itself: " + (Self.chain + [canonical]).joined(separator: " -> "))
            }
            return try Self.$chain.withValue(Self.chain + [canonical]) { try runNotebookBody(path) }
        }

        func runNotebookBody(_ path: String) throws -> Int {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read notebook \(path)")
            }
            let doc = try NotebookDocument(text: text)
            if doc.cells.isEmpty { throw ValidationError("\(path): no ```sh cells with a loupe command") }
            let notebookComparison = OutputComparison(relativeTolerance: doc.notebookSetting("rtol") ?? rtol,
                                                      absoluteTolerance: doc.notebookSetting("atol") ?? atol)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-notebook-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            var outputs: [String?] = []
            var failures = 0
            let start = Date()
            for (i, cell) in doc.cells.enumerated() {
                let command = cell.command.replacingOccurrences(of: "$SCRATCH", with: scratch.path)
                guard let words = ShellWords.split(command) else { throw NotebookError.badQuoting(line: cell.line, command: cell.command) }
                let t0 = Date()
                notice(String(format: "%@ [%d/%d] loupe %@", path, i + 1, doc.cells.count, cell.command))
                var output: String
                do {
                    output = try Loupe.runInProcess(words)
                } catch {
                    output = "error: " + Loupe.message(for: error)
                }
                output = output.replacingOccurrences(of: scratch.path, with: "$SCRATCH")
                while output.hasSuffix("\n") { output.removeLast() }
                notice(String(format: "    %.1f s", Date().timeIntervalSince(t0)))
                if check {
                    let comparison = OutputComparison(
                        relativeTolerance: cell.relativeTolerance ?? notebookComparison.relativeTolerance,
                        absoluteTolerance: cell.absoluteTolerance ?? notebookComparison.absoluteTolerance)
                    if let expected = cell.expected {
                        if let diff = comparison.difference(expected: expected, actual: output) {
                            failures += 1
                            Console.out("\(path):\(cell.line): `loupe \(cell.command)`: \(diff)")
                        }
                    } else {
                        failures += 1
                        Console.out("\(path):\(cell.line): `loupe \(cell.command)`: no recorded output block")
                    }
                }
                outputs.append(output)
            }
            if check {
                Console.out(String(format: "%@: %d cells, %@ (%.1f s)", path, doc.cells.count,
                                   failures == 0 ? "all match" : "\(failures) differ", Date().timeIntervalSince(start)))
            } else {
                let updated = doc.rendered(outputs: outputs)
                if updated != text { try updated.write(toFile: path, atomically: true, encoding: .utf8) }
                Console.out(String(format: "%@: %d cells run, %@ (%.1f s)", path, doc.cells.count,
                                   updated == text ? "outputs unchanged" : "outputs written", Date().timeIntervalSince(start)))
            }
            return failures
        }

        /// A progress line on stderr, also when this command itself runs in process.
        func notice(_ line: String) {
            FileHandle.standardError.write(Data(("loupe: " + line + "\n").utf8))
        }
    }
}
