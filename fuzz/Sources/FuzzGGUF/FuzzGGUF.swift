import Formats
import FuzzSupport

/// One fuzz input as a GGUF file: parsing must throw or succeed, and a parsed file's small
/// tensors must read back (dequantized) without trapping.
let fuzzGGUF: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    let path = FuzzScratch.write(data, size, name: "input.gguf")
    guard let file = try? GGUFFile(path: path) else { return 0 }
    for info in file.tensors.prefix(8) where info.elementCount <= 1 << 16 {
        _ = try? file.tensor(info.name)
    }
    return 0
}

@_cdecl("FuzzGGUF_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzGGUF)
}
