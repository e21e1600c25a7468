/// A text notebook: Markdown whose ```sh blocks hold `loupe` commands, each followed by a
/// ```text block with what the command printed.
///
/// The document is kept as lines so that rewriting the outputs leaves everything else byte
/// for byte as it was.
struct NotebookDocument {
    /// One runnable cell: a command and where its output block sits.
    struct Cell {
        /// The command line, without the leading `loupe`.
        var command: String
        /// 1-based line of the command, for messages.
        var line: Int
        /// Lines of the output block's body (between its fences), if the block exists.
        var output: Range<Int>?
        /// Where a missing output block would be inserted (the line after the sh block).
        var insertAt: Int
        /// The current output text.
        var expected: String?
        /// Tolerances set for this cell by a `<!-- cell: rtol=... atol=... -->` line right
        /// before its block.
        var relativeTolerance: Double?
        var absoluteTolerance: Double?
    }

    var lines: [String]
    var cells: [Cell] = []

    init(text: String) throws {
        lines = text.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            guard lines[i].trimmingCharacters(in: .whitespaces) == "```sh" else { i += 1; continue }
            let start = i
            guard let end = (start + 1..<lines.count).first(where: { lines[$0].trimmingCharacters(in: .whitespaces) == "```" }) else {
                throw NotebookError.unclosedBlock(line: start + 1)
            }
            let body = lines[(start + 1)..<end].map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            i = end + 1
            guard body.count == 1, body[0].hasPrefix("loupe ") || body[0] == "loupe" else { continue }
            var cell = Cell(command: String(body[0].dropFirst("loupe".count)).trimmingCharacters(in: .whitespaces),
                            line: start + 2, output: nil, insertAt: end + 1, expected: nil)
            var k = start - 1
            while k >= 0 && lines[k].trimmingCharacters(in: .whitespaces).isEmpty { k -= 1 }
            if k >= 0 && lines[k].hasPrefix("<!-- cell:") {
                cell.relativeTolerance = NotebookDocument.setting("rtol", in: lines[k])
                cell.absoluteTolerance = NotebookDocument.setting("atol", in: lines[k])
            }
            // The output block is the next fenced block if it is ```text, with only blank lines between.
            var j = end + 1
            while j < lines.count && lines[j].trimmingCharacters(in: .whitespaces).isEmpty { j += 1 }
            if j < lines.count && lines[j].trimmingCharacters(in: .whitespaces) == "```text" {
                guard let close = (j + 1..<lines.count).first(where: { lines[$0].trimmingCharacters(in: .whitespaces) == "```" }) else {
                    throw NotebookError.unclosedBlock(line: j + 1)
                }
                cell.output = (j + 1)..<close
                cell.expected = lines[(j + 1)..<close].joined(separator: "\n")
                i = close + 1
            }
            cells.append(cell)
        }
    }

    /// The value of `name=value` in a settings comment line.
    static func setting(_ name: String, in line: String) -> Double? {
        for word in line.split(separator: " ") where word.hasPrefix(name + "=") {
            return Double(word.dropFirst(name.count + 1))
        }
        return nil
    }

    /// The notebook-wide setting `name` from a `<!-- notebook: ... -->` line.
    func notebookSetting(_ name: String) -> Double? {
        lines.first { $0.hasPrefix("<!-- notebook:") }.flatMap { NotebookDocument.setting(name, in: $0) }
    }

    /// The document with each cell's output replaced by `outputs[i]` (nil: unchanged);
    /// missing output blocks are added after their command.
    func rendered(outputs: [String?]) -> String {
        var out = lines
        // From the end, so earlier line numbers stay valid.
        for (cell, output) in zip(cells, outputs).reversed() {
            guard let output else { continue }
            let body = output.isEmpty ? [] : output.components(separatedBy: "\n")
            if let range = cell.output {
                out.replaceSubrange(range, with: body)
            } else {
                out.insert(contentsOf: [""] + ["```text"] + body + ["```"], at: cell.insertAt)
            }
        }
        return out.joined(separator: "\n")
    }
}

/// Problems with a notebook file.
enum NotebookError: Error, CustomStringConvertible {
    case unclosedBlock(line: Int)
    case badQuoting(line: Int, command: String)

    var description: String {
        switch self {
        case let .unclosedBlock(line): return "line \(line): a fenced block is never closed"
        case let .badQuoting(line, command): return "line \(line): unbalanced quotes in `loupe \(command)`"
        }
    }
}
