import Foundation
import FuzzSupport
import Models

/// One fuzz input as the config.json of a folder whose weights and tokenizer are the tiny
/// Llama fixture's (`LOUPE_FUZZ_MODEL` names that folder): loading must throw or succeed, and
/// a loaded model must run a short prompt without trapping.
let fuzzConfigJSON: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    _ = FuzzScratch.write(data, size, name: "config.json")
    linkFixture
    guard let loaded = try? ModelLoader.load(path: FuzzScratch.folder) else { return 0 }
    _ = try? loaded.transformer.forward([[1, 2, 3]], logits: .last)
    return 0
}

/// Links the fixture's weights and tokenizer into the scratch folder, once.
let linkFixture: Void = {
    let fixture = ProcessInfo.processInfo.environment["LOUPE_FUZZ_MODEL"] ?? "Tests/Fixtures/models/tiny-llama"
    for f in (try? FileManager.default.contentsOfDirectory(atPath: fixture)) ?? [] where f != "config.json" {
        let target = URL(fileURLWithPath: fixture).appendingPathComponent(f).standardizedFileURL.path
        try? FileManager.default.createSymbolicLink(atPath: FuzzScratch.folder + "/" + f, withDestinationPath: target)
    }
}()

@_cdecl("FuzzConfigJSON_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzConfigJSON)
}
