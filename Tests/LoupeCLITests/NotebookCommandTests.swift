import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe notebook run`: writes outputs under commands, checks them with a tolerance on
/// numbers, and reports the cell that differs.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct NotebookCommandTests {
    @Test func writesThenChecksOutputs() throws {
        let dir = try captureFolder()
        let path = dir.appendingPathComponent("nb.md").path
        let notebook = """
            # A notebook

            Tokenize, with quotes the shell would need:

            ```sh
            loupe tokenize "It's a \\"test\\"" --format json
            ```

            Predict (an old output block that will be replaced):

            ```sh
            loupe run 'The capital of France is' --top-k 2
            ```

            ```text
            stale
            ```

            A failing command records its error, and $SCRATCH is a fresh folder:

            ```sh
            loupe store ls $SCRATCH/missing.db
            ```

            ```python
            print("not a cell")
            ```
            """
        try notebook.write(toFile: path, atomically: true, encoding: .utf8)
        let written = try runLoupe(["notebook", "run", path])
        #expect(written.contains("3 cells run, outputs written"), "\(written)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"text\" : \"It's a \\\"test\\\"\""), "\(text)")
        #expect(text.contains("'␣Paris'") && !text.contains("stale"), "\(text)")
        #expect(text.contains("error: ") && text.contains("$SCRATCH/missing.db") && !text.contains(dir.path), "\(text)")
        #expect(text.contains("```python\nprint(\"not a cell\")\n```"))
        // Unchanged outputs check clean, and a second write changes nothing.
        #expect(try runLoupe(["notebook", "run", "--check", path]).contains("3 cells, all match"))
        #expect(try runLoupe(["notebook", "run", path]).contains("outputs unchanged"))

        // A probability moved by 2% fails the check at the default tolerance, passes at 5%.
        let probability = try #require(text.range(of: #"0\.\d{4}"#, options: .regularExpression))
        let value = Double(text[probability])!
        try text.replacingCharacters(in: probability, with: String(format: "%.4f", value * 1.02))
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (out, error) = Loupe.runInProcessKeepingOutput(["notebook", "run", "--check", path])
        #expect(error != nil)
        #expect(out.contains("nb.md:34: `loupe run 'The capital of France is' --top-k 2`: expected \(String(format: "%.4f", value * 1.02))"), "\(out)")
        #expect(try runLoupe(["notebook", "run", "--check", "--rtol", "0.05", path]).contains("all match"))
        // Text that differs fails whatever the tolerance.
        try text.replacingOccurrences(of: "'␣Paris'", with: "'␣Lyon'").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try runLoupe(["notebook", "run", "--check", "--rtol", "1", path]) }
    }
}
