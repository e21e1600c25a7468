import FuzzSupport

/// One fuzz input as a prompt file (the Store's reader, linked into this target): the first
/// byte picks the kind (.txt, .jsonl or .tsv), the rest is the file. Reading must throw or
/// return records whose lines lie inside the file.
let fuzzPromptFile: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data, size > 0 else { return 0 }
    let kind = ["txt", "jsonl", "tsv"][Int(data[0]) % 3]
    let path = FuzzScratch.write(data + 1, size - 1, name: "prompts." + kind)
    guard let records = try? PromptFile.read(path) else { return 0 }
    let lines = UnsafeBufferPointer(start: data + 1, count: size - 1).filter { $0 == 0x0A }.count + 1
    for r in records where r.line < 1 || r.line > lines { fatalError("record line \(r.line) outside 1...\(lines)") }
    return 0
}

@_cdecl("FuzzPromptFile_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzPromptFile)
}
