import Foundation
import Testing

/// `scripts/check-layers.sh`, which CI runs: it passes on the repository and fails on each
/// kind of planted violation, naming the file and the rule.
@Suite struct LayeringScriptTests {
    /// Runs the script on `root`; returns its exit code and output.
    func check(_ root: URL) throws -> (Int32, String) {
        try ChildProcess.run("/bin/bash", [repositoryRoot.appendingPathComponent("scripts/check-layers.sh").path, root.path])
    }

    /// A tree with one file per `path: text` under `Sources/`.
    func tree(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent("Sources").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    let clean = [
        "Linalg/A.swift": "import CBLAS\nimport Foundation\n",
        "Store/B.swift": "import Models\nimport GRDB\n",
        "Formats/K.swift": "import CKernels\nimport Linalg\n",
        "Analyses/C.swift": "import Store\nimport Probes\nimport Reporting\nimport Cluster\n",
        "Reporting/D.swift": "import Foundation\n",
        "Cluster/F.swift": "import CMPI\nimport Foundation\n",
        "LoupeCLI/E.swift": "import ArgumentParser\nextension Loupe {\n    struct Trace: ParsableCommand {\n        struct Output: Encodable {}\n    }\n}\n",
    ]

    @Test func theRepositoryAndACleanTreePass() throws {
        let (code, output) = try check(repositoryRoot)
        #expect(code == 0, "\(output)")
        let root = try tree(clean)
        defer { try? FileManager.default.removeItem(at: root) }
        let (c2, o2) = try check(root)
        #expect(c2 == 0, "\(o2)")
    }

    @Test(arguments: [
        ("Formats/Up.swift", "import Store\n", "Formats imports Store, which is not below it"),
        ("Models/Side.swift", "@testable import Models\nimport Analyses\n", "Models imports Analyses"),
        ("Probes/Blas.swift", "import CBLAS\n", "Probes imports CBLAS (only Linalg may"),
        ("Analyses/Lapack.swift", "import CLAPACKE\n", "Analyses imports CLAPACKE"),
        ("Models/Avx.swift", "import CKernels\n", "Models imports CKernels (only Linalg and Formats may"),
        ("Reporting/Leaf.swift", "import Linalg\n", "Reporting imports Linalg (Reporting is a leaf"),
        ("Store/Report.swift", "import Reporting\n", "Store imports Reporting"),
        ("LoupeCLI/Commands/Contrast.swift", "import Store\nenum StoreContrast {\n    static func load() {}\n}\n",
         "LoupeCLI declares 'StoreContrast'"),
        ("Newcomer/X.swift", "import Linalg\n", "module Newcomer is not in check-layers.sh's layer table"),
        ("Store/Mpi.swift", "import CMPI\n", "Store imports CMPI (only Cluster may"),
        ("Cluster/Up.swift", "import CMPI\nimport Linalg\n", "Cluster imports Linalg (Cluster is a leaf"),
        ("Probes/Sum.swift", "import Cluster\n", "Probes imports Cluster (only Analyses and the layers above it may)"),
    ])
    func aPlantedViolationFails(path: String, text: String, message: String) throws {
        var files = clean
        files[path] = text
        let root = try tree(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let (code, output) = try check(root)
        #expect(code == 1, "\(output)")
        #expect(output.contains(message), "\(output)")
        #expect(output.contains("Sources/\(path)"), "\(output)")
    }
}
