// swift-tools-version: 6.0
import PackageDescription

// Loupe: an interpretability workbench for transformer language models.
// Modules run downward only: Linalg <- Formats <- Tokenizers <- Models <- Store <- Probes <- Analyses
// <- LoupeCLI <- loupe; Reporting is a leaf that imports nothing of Loupe, and so is Cluster (sums
// over MPI processes; Analyses and above import it). Only Linalg imports CBLAS/CLAPACKE; only
// Cluster imports CMPI; only Formats imports CKernels (C kernels for AVX2/FMA, chosen at run
// time). `scripts/check-layers.sh` (run by scripts/test.sh) enforces these rules.
let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        .library(name: "Models", targets: ["Models"]),
        // The parsers' modules, for the fuzz harnesses in fuzz/.
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // System libraries. `providers` only prints a hint; scripts/setup.sh installs them.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        .target(name: "Linalg", dependencies: [
            "CBLAS", "CLAPACKE", "CKernels",
            .product(name: "RealModule", package: "swift-numerics"),
        ]),
        // AVX2/FMA/F16C kernels for GGUF blocks and the forward pass's elementwise work,
        // compiled with per-function target attributes so the binary keeps the baseline ISA;
        // Linalg and Formats call them only after a CPUID check (Linalg's KernelSet).
        .target(name: "CKernels"),
        .target(name: "Formats", dependencies: ["Linalg", "CKernels"]),
        .target(name: "Tokenizers", dependencies: ["Formats"]),
        .target(name: "Models", dependencies: ["Linalg", "Formats", "Tokenizers"]),
        .target(name: "Reporting"),
        .target(name: "Cluster", dependencies: ["CMPI"]),
        .target(name: "Store", dependencies: [
            "Models", "Tokenizers", "Linalg",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "Probes", dependencies: ["Linalg", "Tokenizers", "Store", "Models", "Reporting"]),
        .target(name: "Analyses", dependencies: [
            "Probes", "Store", "Models", "Linalg", "Formats", "Tokenizers", "Reporting", "Cluster",
            .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "LoupeCLI", dependencies: [
            "Analyses", "Reporting", "Probes", "Cluster",
            "Models", "Store", "Tokenizers", "Formats", "Linalg",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "loupe", dependencies: ["LoupeCLI", "Linalg"]),
        .executableTarget(name: "loupe-bench", dependencies: ["Models", "Store", "Analyses", "Linalg", "Formats", "Tokenizers", "Probes"],
                          path: "Sources/loupe-bench"),

        .target(name: "LoupeTestSupport", dependencies: ["Linalg", "Formats", "Models"],
                path: "Tests/LoupeTestSupport"),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "LoupeTestSupport"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "LoupeTestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Formats", "LoupeTestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "LoupeTestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "AnalysesTests", dependencies: ["Analyses", "Store", "Probes", "Tokenizers", "Cluster", "LoupeTestSupport"]),
        .testTarget(name: "StoreTests", dependencies: [
            "Store", "Models", "Linalg", "LoupeTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "Linalg", "Formats", "LoupeTestSupport"]),
        .testTarget(name: "LoupeCLITests", dependencies: [
            "LoupeCLI", "Analyses", "Store", "Probes", "LoupeTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
