import Foundation

/// Where command output goes: stdout normally, a buffer when commands run in process
/// (tests, the notebook runner). Progress and warnings go to stderr unless quiet.
public enum Console {
    /// Lines captured for the current task (tests and in-process runs each get their own).
    final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        func write(_ text: String) {
            lock.withLock {
                if lines.isEmpty { lines.append("") }
                lines[lines.count - 1] += text
            }
        }
        var text: String { lock.withLock { lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n") } }
    }

    @TaskLocal static var capture: Buffer? = nil
    nonisolated(unsafe) public static var quiet = false

    /// Prints `line` to the command's output.
    static func out(_ line: String) {
        if let capture { capture.append(line) } else { print(line) }
    }

    /// Writes text without a newline (streaming generation).
    static func write(_ text: String) {
        if let capture { capture.write(text) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    /// A progress or status line on stderr.
    static func progress(_ line: String) {
        guard !quiet, capture == nil else { return }
        FileHandle.standardError.write(Data(("loupe: " + line + "\n").utf8))
    }

    /// Runs `body` with output captured, returning what it printed. Captures are per task,
    /// so concurrent callers do not see each other's output.
    public static func capturing(_ body: () throws -> Void) rethrows -> String {
        let buffer = Buffer()
        try $capture.withValue(buffer) { try body() }
        return buffer.text
    }

    /// Encodes `value` as pretty, key-sorted JSON and prints it.
    static func json<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        out(String(decoding: try e.encode(value), as: UTF8.self))
    }
}
