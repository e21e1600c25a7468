import ArgumentParser
import Foundation

/// Reads `{"text": ...}` lines from a JSONL file; errors name the file and line.
enum InputFile {
    static func texts(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read input file \(path)")
        }
        var texts: [String] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ValidationError("\(path):\(i + 1): not a JSON object")
            }
            guard let text = object["text"] as? String else {
                throw ValidationError("\(path):\(i + 1): no string field \"text\"")
            }
            texts.append(text)
        }
        if texts.isEmpty { throw ValidationError("\(path): no inputs (expected one {\"text\": ...} per line)") }
        return texts
    }
}
