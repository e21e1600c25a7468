import Foundation

/// Where command output goes: stdout normally, a buffer when commands run in process
/// (tests, the notebook runner). Progress and warnings go to stderr unless quiet.
public enum Console {
    nonisolated(unsafe) static var capture: [String]? = nil
    nonisolated(unsafe) public static var quiet = false

    /// Prints `line` to the command's output.
    static func out(_ line: String) {
        if capture != nil { capture!.append(line) } else { print(line) }
    }

    /// Writes text without a newline (streaming generation).
    static func write(_ text: String) {
        if capture != nil {
            if capture!.isEmpty { capture!.append("") }
            capture![capture!.count - 1] += text
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// A progress or status line on stderr.
    static func progress(_ line: String) {
        guard !quiet, capture == nil else { return }
        FileHandle.standardError.write(Data(("loupe: " + line + "\n").utf8))
    }

    /// Runs `body` with output captured, returning what it printed.
    public static func capturing(_ body: () throws -> Void) rethrows -> String {
        let saved = capture
        capture = []
        defer { capture = saved }
        try body()
        return capture!.joined(separator: "\n") + (capture!.isEmpty ? "" : "\n")
    }

    /// Encodes `value` as pretty, key-sorted JSON and prints it.
    static func json<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        out(String(decoding: try e.encode(value), as: UTF8.self))
    }
}
