import FuzzSupport

/// One fuzz input as a notebook (its files are the CLI's own, linked into this target): parsing
/// must throw or succeed; a parsed notebook's cells must split into words, compare their output
/// with itself, and render back to the same text when no output changes.
let fuzzNotebook: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    let text = data.map { String(decoding: UnsafeBufferPointer(start: $0, count: size), as: UTF8.self) } ?? ""
    guard let doc = try? NotebookDocument(text: text) else { return 0 }
    for cell in doc.cells {
        _ = ShellWords.split(cell.command)
        if let expected = cell.expected {
            let compare = OutputComparison(relativeTolerance: cell.relativeTolerance ?? 1e-3, absoluteTolerance: cell.absoluteTolerance ?? 0)
            _ = compare.difference(expected: expected, actual: expected + " 1")
        }
    }
    _ = doc.notebookSetting("rtol")
    guard doc.rendered(outputs: doc.cells.map { _ in nil }) == text else { fatalError("rendering without changes altered the notebook") }
    _ = doc.rendered(outputs: doc.cells.map { _ in "x\n1.5" })
    return 0
}

@_cdecl("FuzzNotebook_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzNotebook)
}
