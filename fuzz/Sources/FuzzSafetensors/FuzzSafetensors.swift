import Formats
import FuzzSupport

/// One fuzz input as a safetensors file: the header must parse or throw, and a parsed file's
/// small tensors must read back without trapping.
let fuzzSafetensors: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    let path = FuzzScratch.write(data, size, name: "model.safetensors")
    guard let checkpoint = try? SafetensorsCheckpoint(path: path) else { return 0 }
    for name in checkpoint.tensorNames.prefix(8) {
        if let shape = checkpoint.shape(of: name), shape.reduce(1, { $0 &* Swift.max($1, 1) }) <= 1 << 16 {
            _ = try? checkpoint.tensor(name)
        }
    }
    return 0
}

@_cdecl("FuzzSafetensors_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSafetensors)
}
