import Models
import Foundation

/// One prompt read from a prompt file: its text, the other fields as metadata (labels,
/// `subject`, ...), and the file line it came from (for error messages).
public struct PromptRecord: Sendable, Equatable {
    public var text: String
    /// Every field except `text` (JSONL values as they were; TSV cells as strings).
    public var metadata: [String: JSONValue]
    /// 1-based line in the file.
    public var line: Int

    public init(text: String, metadata: [String: JSONValue] = [:], line: Int) {
        self.text = text
        self.metadata = metadata
        self.line = line
    }

    /// The `subject` field, for `--positions subject`.
    public var subject: String? {
        if case .string(let s) = metadata["subject"] { return s }
        return nil
    }
}

/// Reads prompt files: `.txt` (one prompt per line), `.jsonl` (one object per line with a
/// string `text` and any other fields) or `.tsv` (a header row naming the columns, one of
/// them `text`). Blank lines (empty or only whitespace) are skipped; every other line of a
/// `.txt` file is a prompt, `#` included. Every command that reads prompts reads them here.
/// Errors name the file and the 1-based line.
public enum PromptFile {
    /// The prompts in the file at `path`, in file order.
    /// - Throws: ``StoreError/badPromptFile(path:line:reason:)``.
    public static func read(_ path: String) throws -> [PromptRecord] {
        let lines = try textLines(path)
        let records: [PromptRecord]
        switch (path as NSString).pathExtension.lowercased() {
        case "txt": records = lines.enumerated().compactMap { i, l in
            l.allSatisfy(\.isWhitespace) ? nil : PromptRecord(text: l, line: i + 1) }
        case "jsonl": records = try jsonl(lines, path: path)
        case "tsv": records = try tsv(lines, path: path)
        default:
            throw StoreError.badPromptFile(path: path, line: 0, reason: "unknown prompt file kind; use .txt, .jsonl or .tsv")
        }
        if records.isEmpty { throw StoreError.badPromptFile(path: path, line: 0, reason: "no prompts in the file") }
        return records
    }

    /// The lines of the UTF-8 text file at `path` (LF or CRLF; no empty last line for a final
    /// line break).
    /// - Throws: ``StoreError/badPromptFile(path:line:reason:)`` when the file cannot be read
    ///   or is not UTF-8.
    static func textLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.badPromptFile(path: path, line: 0, reason: "cannot read the file")
        }
        guard let content = String(data: data, encoding: .utf8) else {
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            let bad = lines.firstIndex { String(data: Data($0), encoding: .utf8) == nil }.map { $0 + 1 } ?? 0
            throw StoreError.badPromptFile(path: path, line: bad, reason: "not UTF-8 text")
        }
        // "\r\n" is one Character in Swift, so split on both.
        var lines = content.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func jsonl(_ lines: [String], path: String) throws -> [PromptRecord] {
        var out: [PromptRecord] = []
        let decoder = JSONDecoder()
        for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard case .object(var fields)? = try? decoder.decode(JSONValue.self, from: Data(line.utf8)) else {
                throw StoreError.badPromptFile(path: path, line: i + 1, reason: "not a JSON object")
            }
            guard case .string(let text)? = fields.removeValue(forKey: "text") else {
                throw StoreError.badPromptFile(path: path, line: i + 1, reason: "no string field \"text\"")
            }
            out.append(PromptRecord(text: text, metadata: fields, line: i + 1))
        }
        return out
    }

    static func tsv(_ lines: [String], path: String) throws -> [PromptRecord] {
        guard let header = lines.first?.split(separator: "\t", omittingEmptySubsequences: false).map(String.init),
              let textColumn = header.firstIndex(of: "text") else {
            throw StoreError.badPromptFile(path: path, line: 1, reason: "the header row has no \"text\" column")
        }
        var out: [PromptRecord] = []
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == header.count else {
                throw StoreError.badPromptFile(path: path, line: i + 1,
                                               reason: "\(cells.count) columns, the header has \(header.count)")
            }
            var fields: [String: JSONValue] = [:]
            for (name, cell) in zip(header, cells) where name != "text" { fields[name] = .string(cell) }
            out.append(PromptRecord(text: cells[textColumn], metadata: fields, line: i + 1))
        }
        return out
    }
}
