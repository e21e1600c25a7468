// swift-tools-version: 6.0
import PackageDescription

// libFuzzer harnesses for the parsers of untrusted files (GGUF, safetensors, tokenizer.json,
// config.json, notebooks, prompt files). The notebook and prompt-file harnesses compile the
// CLI's and the Store's parser files themselves (symbolic links), so the fuzz build does not
// need LoupeCLI or Store (and GRDB) instrumented. Built and run by scripts/fuzz.sh with `-sanitize=fuzzer,address`. SwiftPM
// gives each executable its own entry (`<Target>_main`), which each harness defines (its file
// parsed as a library) to start libFuzzer through `LLVMFuzzerRunDriver` (FuzzSupport).
let library: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "LoupeFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Loupe", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzGGUF", dependencies: ["FuzzSupport", .product(name: "Formats", package: "Loupe")], swiftSettings: library),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", .product(name: "Formats", package: "Loupe")], swiftSettings: library),
        .executableTarget(name: "FuzzTokenizerJSON", dependencies: ["FuzzSupport", .product(name: "Tokenizers", package: "Loupe")], swiftSettings: library),
        .executableTarget(name: "FuzzConfigJSON", dependencies: ["FuzzSupport", .product(name: "Models", package: "Loupe")], swiftSettings: library),
        .executableTarget(name: "FuzzNotebook", dependencies: ["FuzzSupport"], swiftSettings: library),
        .executableTarget(name: "FuzzPromptFile", dependencies: ["FuzzSupport", .product(name: "Models", package: "Loupe")], swiftSettings: library),
    ]
)
