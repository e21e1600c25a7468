import Foundation
import Formats
import Tokenizers

/// Fixture files and the real model, for the tokenizer tests.
enum Fixtures {
    /// `Tests/Fixtures/tokenizers` in the source tree.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("tokenizers")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// `$LOUPE_MODEL`, else `$LOUPE_CACHE` (or `~/.cache/loupe`) + the default SmolLM2 file.
    static var modelPath: String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["LOUPE_MODEL"], !p.isEmpty { return p }
        let cache = env["LOUPE_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache/loupe")
        return cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    static var hasModel: Bool { FileManager.default.fileExists(atPath: modelPath) }

    /// The SmolLM2 tokenizer, loaded once for all tests.
    static let smolLM2: Result<Tokenizer, any Error> = Result {
        try Tokenizer(gguf: GGUFFile(path: modelPath))
    }

    /// One expected encoding from a fixture file.
    struct Case {
        let text: String
        let ids: [Int]
        /// Present only for strings containing special-token text.
        let idsNoParseSpecial: [Int]?
        let decodedSkipSpecial: String?
        let idsWithSpecial: [Int]?
    }

    static func cases(_ name: String) throws -> [Case] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let list = root?["cases"] as? [[String: Any]] ?? []
        func ints(_ v: Any?) -> [Int]? { (v as? [NSNumber])?.map(\.intValue) }
        return list.map { c in
            Case(text: c["text"] as? String ?? "", ids: ints(c["ids"]) ?? [],
                 idsNoParseSpecial: ints(c["idsNoParseSpecial"]),
                 decodedSkipSpecial: c["decodedSkipSpecial"] as? String,
                 idsWithSpecial: ints(c["idsWithSpecial"]))
        }
    }

    /// A tiny tokenizer.json fixture (`tiny_gpt2`, `tiny_llama3`, `tiny_qwen2`).
    static func tiny(_ name: String) throws -> Tokenizer {
        let config = path(name + "/tokenizer_config.json")
        return try Tokenizer(tokenizerJSON: path(name + "/tokenizer.json"),
                             tokenizerConfig: FileManager.default.fileExists(atPath: config) ? config : nil)
    }

    /// Writes `json` to a temporary file and returns its path.
    static func temporaryJSON(_ json: Any, name: String = "tokenizer.json") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url.path
    }
}

extension String {
    /// A short, escaped form for failure messages.
    var shortDebug: String {
        let d = debugDescription
        return d.count > 80 ? String(d.prefix(77)) + "..." : d
    }
}
