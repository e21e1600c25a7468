import Foundation
import Models

/// Reads corpus files for `loupe capture --corpus`: `.jsonl` (one document per line, a string
/// `text` plus any other fields, e.g. `source`, kept as metadata) or `.txt` (documents separated
/// by one or more blank lines; a document's line breaks are kept). Errors name the file and the
/// 1-based line.
public enum CorpusFile {
    /// The documents in the file at `path`, in file order. Each record's `line` is the line
    /// the document starts on.
    /// - Throws: ``StoreError/badPromptFile(path:line:reason:)`` for an unreadable file, a
    ///   malformed JSONL line, another extension, or a file without documents.
    public static func read(_ path: String) throws -> [PromptRecord] {
        let lines = try PromptFile.textLines(path)
        let documents: [PromptRecord]
        switch (path as NSString).pathExtension.lowercased() {
        case "jsonl": documents = try PromptFile.jsonl(lines, path: path).filter { !isBlank($0.text) }
        case "txt": documents = paragraphs(lines)
        default:
            throw StoreError.badPromptFile(path: path, line: 0, reason: "unknown corpus file kind; use .jsonl (a \"text\" field per line) or .txt (documents separated by blank lines)")
        }
        if documents.isEmpty { throw StoreError.badPromptFile(path: path, line: 0, reason: "no documents in the corpus") }
        return documents
    }

    /// Blank-line separated documents of a text file.
    static func paragraphs(_ lines: [String]) -> [PromptRecord] {
        var out: [PromptRecord] = []
        var current: [String] = [], start = 0
        for (i, line) in lines.enumerated() {
            if isBlank(line) {
                if !current.isEmpty { out.append(PromptRecord(text: current.joined(separator: "\n"), line: start + 1)) }
                current = []
            } else {
                if current.isEmpty { start = i }
                current.append(line)
            }
        }
        if !current.isEmpty { out.append(PromptRecord(text: current.joined(separator: "\n"), line: start + 1)) }
        return out
    }

    static func isBlank(_ s: String) -> Bool { s.allSatisfy(\.isWhitespace) }
}
