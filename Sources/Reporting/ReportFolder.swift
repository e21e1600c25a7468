import Foundation

/// A report folder (`reports/<analysis>-<label>/` or a given `--out` directory) that files
/// are written into atomically, by plain name only, with a record of what was written.
///
/// Each write goes to a hidden temporary file in the folder, then `rename(2)`s over the
/// target, so a reader never sees half a file and a crash leaves the old one.
public struct ReportFolder: Sendable {
    /// The folder.
    public let url: URL
    /// Names of the files written so far, in order of first write.
    public private(set) var writtenFiles: [String] = []

    /// Creates (if needed) `root/<analysis>-<slug of label>`, e.g. `reports/trace-eiffel-tower`.
    /// - Throws: ``ReportError/invalidName(_:reason:)`` for a bad analysis name,
    ///   ``ReportError/folder(path:reason:)`` when the folder cannot be made.
    public init(analysis: String, label: String, root: URL = URL(fileURLWithPath: "reports", isDirectory: true)) throws {
        try ReportFolder.validate(name: analysis)
        try self.init(directory: root.appendingPathComponent(ReportFolder.folderName(analysis: analysis, label: label),
                                                             isDirectory: true))
    }

    /// Uses `directory` as the folder (the `--out` option), creating it and its parents if needed.
    /// - Throws: ``ReportError/folder(path:reason:)`` when it cannot be made or is a file.
    public init(directory: URL) throws {
        let path = directory.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ReportError.folder(path: path, reason: "exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw ReportError.folder(path: path, reason: "cannot create: \(error.localizedDescription)")
            }
        }
        self.url = directory
    }

    /// `<analysis>-<label>` with the label lower-cased and every run of characters outside
    /// `a-z 0-9 _` turned into one `-` (`"Eiffel Tower!"` → `eiffel-tower`); an empty slug is `default`.
    public static func folderName(analysis: String, label: String) -> String {
        var slug = ""
        for scalar in label.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return analysis + "-" + (slug.isEmpty ? "default" : slug)
    }

    /// Checks that `name` is a plain file name: not empty, no `/`, `\`, NUL or `..`, not
    /// starting with `.`, at most 255 bytes.
    /// - Throws: ``ReportError/invalidName(_:reason:)`` naming the rule broken.
    public static func validate(name: String) throws {
        let reason: String? =
            name.isEmpty ? "empty"
            : name.contains("/") || name.contains("\\") ? "contains a path separator"
            : name.contains("..") ? "contains '..'"
            : name.hasPrefix(".") ? "starts with '.'"
            : name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? "contains a control character"
            : name.utf8.count > 255 ? "longer than 255 bytes"
            : nil
        if let reason { throw ReportError.invalidName(name, reason: reason) }
    }

    /// Writes `data` to `name` in the folder, atomically, and records the name.
    /// - Returns: the file's URL.
    /// - Throws: ``ReportError/invalidName(_:reason:)`` for a name that is not plain,
    ///   ``ReportError/write(path:reason:)`` when writing or renaming fails.
    @discardableResult
    public mutating func write(_ data: Data, to name: String) throws -> URL {
        try ReportFolder.validate(name: name)
        let target = url.appendingPathComponent(name, isDirectory: false)
        let temporary = url.appendingPathComponent(".\(name).tmp-\(getpid())", isDirectory: false)
        do {
            try data.write(to: temporary)
        } catch {
            throw ReportError.write(path: temporary.path, reason: error.localizedDescription)
        }
        if rename(temporary.path, target.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ReportError.write(path: target.path, reason: reason)
        }
        if !writtenFiles.contains(name) { writtenFiles.append(name) }
        return target
    }

    /// Writes `text` as UTF-8 to `name`; see ``write(_:to:)-(Data,_)``.
    @discardableResult
    public mutating func write(_ text: String, to name: String) throws -> URL {
        try write(Data(text.utf8), to: name)
    }

    /// Writes `table` as CSV to `name` (e.g. `trace.csv`).
    @discardableResult
    public mutating func write(_ table: CSVTable, to name: String) throws -> URL {
        try write(table.rendered(), to: name)
    }

    /// Writes `summary` to `summary.txt`.
    @discardableResult
    public mutating func writeSummary(_ summary: SummaryText) throws -> URL {
        try write(summary.rendered(), to: "summary.txt")
    }

    /// Writes `page` to `index.html`.
    @discardableResult
    public mutating func writeIndex(_ page: HTMLPage) throws -> URL {
        try write(page.rendered(), to: "index.html")
    }
}
