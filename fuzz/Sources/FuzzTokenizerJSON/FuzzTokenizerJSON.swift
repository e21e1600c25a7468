import FuzzSupport
import Tokenizers

/// One fuzz input as a tokenizer.json: building the tokenizer must throw or succeed, and a
/// built tokenizer must encode and decode a fixed text without trapping.
let fuzzTokenizerJSON: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    let path = FuzzScratch.write(data, size, name: "tokenizer.json")
    guard let tokenizer = try? Tokenizer(tokenizerJSON: path) else { return 0 }
    guard let ids = try? tokenizer.encode("Hello, world! 123 <|im_end|> ünïcödé") else { return 0 }
    _ = tokenizer.decode(ids)
    return 0
}

@_cdecl("FuzzTokenizerJSON_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzTokenizerJSON)
}
