import Foundation

/// Paths to the committed fixtures and the optional real model.
enum FixtureFiles {
    /// `Tests/Fixtures/formats` in the source tree.
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/formats").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// Little-endian float32 values in a fixture file, as bit patterns (exact comparison).
    static func floatBits(_ name: String) throws -> [UInt32] {
        let raw = try bytes(name)
        return stride(from: 0, to: raw.count, by: 4).map { i in
            UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24
        }
    }

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name)))) as! [String: Any]
    }

    /// The real model: `$LOUPE_MODEL`, else the cache path `scripts/setup.sh` fills.
    static let realModel: String = {
        if let p = ProcessInfo.processInfo.environment["LOUPE_MODEL"], !p.isEmpty { return p }
        return NSHomeDirectory() + "/.cache/loupe/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }()

    static var hasRealModel: Bool { FileManager.default.fileExists(atPath: realModel) }
}
