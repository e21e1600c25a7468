/// The text of a `summary.txt`: an optional title, `key: value` lines whose values line up
/// within each run of consecutive fields, and free sentences wrapped at ``width`` columns.
/// A blank line separates a run of fields from the text around it.
public struct SummaryText: Sendable, Equatable {
    private enum Line: Sendable, Equatable {
        case field(String, String)
        case sentence(String)
        case blank
    }

    /// The wrapping column for sentences.
    public var width = 88
    private let title: String?
    private var lines: [Line] = []

    /// An empty summary, headed by `title` underlined with `=` when given.
    public init(title: String? = nil) {
        self.title = title
    }

    /// Adds a `key: value` line. Newlines in either become spaces.
    public mutating func field(_ key: String, _ value: String) {
        lines.append(.field(SummaryText.oneLine(key), SummaryText.oneLine(value)))
    }

    /// Adds a `key: value` line with the value in ``NumberFormat`` form.
    public mutating func field(_ key: String, _ value: Double) {
        field(key, NumberFormat.string(value))
    }

    /// Adds a `key: value` line with an integer value.
    public mutating func field(_ key: String, _ value: Int) {
        field(key, String(value))
    }

    /// Adds a sentence (or paragraph) on its own line, wrapped at ``width``.
    public mutating func sentence(_ text: String) {
        lines.append(.sentence(text))
    }

    /// Adds an empty line.
    public mutating func blankLine() {
        lines.append(.blank)
    }

    /// The summary as text ending in one newline.
    public func rendered() -> String {
        var out: [String] = []
        if let title {
            out += [title, String(repeating: "=", count: title.count), ""]
        }
        var i = 0
        while i < lines.count {
            switch lines[i] {
            case .field:
                var block: [(String, String)] = []
                while i < lines.count, case .field(let k, let v) = lines[i] { block.append((k, v)); i += 1 }
                let keyWidth = block.map { $0.0.count }.max() ?? 0
                separate(&out)
                out += block.map { k, v in k + ":" + String(repeating: " ", count: keyWidth - k.count + 1) + v }
                if i < lines.count, lines[i] != .blank { out.append("") }
                continue
            case .sentence(let text):
                out += wrapped(text)
            case .blank:
                out.append("")
            }
            i += 1
        }
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }

    private func separate(_ out: inout [String]) {
        if let last = out.last, !last.isEmpty { out.append("") }
    }

    private func wrapped(_ text: String) -> [String] {
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > width {
                    result.append(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            result.append(line)
        }
        return result
    }

    private static func oneLine(_ s: String) -> String {
        String(s.map { $0.isNewline ? " " : $0 })
    }
}
