import Foundation

/// libFuzzer's entry for programs that have their own `main` (SwiftPM gives each executable
/// target one, `<Target>_main`, so libFuzzer's `main` is not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process's arguments, calling `callback` with each input.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}

/// A per-process scratch folder the harnesses write each input into.
public enum FuzzScratch {
    public static let folder: String = {
        let dir = NSTemporaryDirectory() + "loupe-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes one input to `name` in the folder and returns its path.
    public static func write(_ data: UnsafePointer<UInt8>?, _ size: Int, name: String) -> String {
        let path = folder + "/" + name
        let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
        _ = FileManager.default.createFile(atPath: path, contents: bytes)
        return path
    }
}
