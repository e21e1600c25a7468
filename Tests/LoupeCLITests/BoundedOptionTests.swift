import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// Numeric options have documented ranges checked before any work (they used to overflow or
/// reserve terabytes), and a notebook that runs itself is an error naming the chain.
@Suite struct BoundedOptionTests {
    func parseError(_ args: [String]) -> String {
        do { _ = try Loupe.parseAsRoot(args); return "(no error)" } catch { return Loupe.message(for: error) }
    }

    @Test func outOfRangeNumbersAreValidationErrors() {
        let fact = ["--prompt", "The Eiffel Tower is in", "--subject", "Eiffel Tower"]
        #expect(parseError(["trace"] + fact + ["--samples", "1000000000"]).contains("--samples must be between 1 and 10000"))
        #expect(parseError(["trace"] + fact + ["--samples", "2e18"]) != "(no error)")
        #expect(parseError(["trace"] + fact + ["--window", "9223372036854775807"]).contains("--window must be between 1 and 1024 layers"))
        #expect(parseError(["knockout"] + fact + ["--window", "9223372036854775807"]).contains("--window must be between 1 and 1024 layers"))
        #expect(parseError(["run", "--threads", "3000000000", "x"]).contains("--threads must be between 1 and 1024, not 3000000000"))
        #expect(parseError(["run", "--threads", "2", "x"]) == "(no error)")
    }

    @Test func aNotebookThatRunsItselfIsAnErrorNotAStackOverflow() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/self.md"
        try "# Loops\n\n```sh\nloupe notebook run \(path)\n```\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = try runLoupe(["notebook", "run", path])
        let written = try String(contentsOfFile: path, encoding: .utf8)
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        #expect(written.contains("error: notebook \(path) runs itself: \(canonical) -> \(canonical)"), "\(written)")
    }
}
