/// One CSV cell: text, an integer, or a float written with ``NumberFormat``.
public enum CSVCell: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral {
    /// Text, quoted when it needs to be.
    case string(String)
    /// An integer in decimal.
    case int(Int)
    /// A float in ``NumberFormat/string(_:)-(Double)`` form.
    case double(Double)

    /// A text cell from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer cell from a literal.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A float cell from a literal.
    public init(floatLiteral value: Double) { self = .double(value) }

    /// The cell's text before CSV quoting.
    public var text: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return NumberFormat.string(d)
        }
    }
}

/// A header and rows of cells, rendered as RFC 4180 CSV with `\n` line ends.
///
/// Fields holding a comma, a double quote, `\n` or `\r`, or starting or ending with
/// whitespace (tokens such as `" Paris"`), are wrapped in double quotes with inner quotes
/// doubled. Every line, the last included, ends in `\n`.
public struct CSVTable: Sendable, Equatable {
    /// Column names.
    public let header: [String]
    /// Rows, each with exactly `header.count` cells.
    public private(set) var rows: [[CSVCell]]

    /// A table with `header` and optional first `rows`; every row must match the header's width.
    public init(header: [String], rows: [[CSVCell]] = []) {
        self.header = header
        self.rows = []
        for row in rows { append(row) }
    }

    /// Adds one row; its width must equal the header's.
    public mutating func append(_ row: [CSVCell]) {
        precondition(row.count == header.count,
                     "CSV row has \(row.count) cells, header has \(header.count): \(header)")
        rows.append(row)
    }

    /// The whole table as CSV text.
    public func rendered() -> String {
        var out = line(header.map(CSVTable.quote))
        for row in rows { out += line(row.map { CSVTable.quote($0.text) }) }
        return out
    }

    /// `field` quoted per RFC 4180 when it needs it, else unchanged.
    public static func quote(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || field.first?.isWhitespace == true || field.last?.isWhitespace == true
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func line(_ fields: [String]) -> String {
        fields.joined(separator: ",") + "\n"
    }
}

extension CSVTable {
    /// Column names of the long form used for heatmaps: `kind, layer, position, token, value`.
    public static let longFormHeader = ["kind", "layer", "position", "token", "value"]

    /// An empty long-form table (header ``longFormHeader``) to fill with ``appendLongForm(kind:values:tokens:layers:)``.
    public static func longForm() -> CSVTable {
        CSVTable(header: longFormHeader)
    }

    /// Appends one heatmap in long form: one row per (position, layer), positions outer.
    ///
    /// - Parameters:
    ///   - kind: what the matrix holds, e.g. `state`, `mlp`, `attn`.
    ///   - values: `[positions][layers]`.
    ///   - tokens: one raw token text per position (written unmodified, quoted as needed).
    ///   - layers: the layer number of each column; `nil` means `0..<columns`.
    public mutating func appendLongForm(kind: String, values: [[Double]], tokens: [String], layers: [Int]? = nil) {
        precondition(header == CSVTable.longFormHeader, "appendLongForm needs a long-form table, header is \(header)")
        precondition(values.count == tokens.count, "\(values.count) rows of values but \(tokens.count) tokens")
        for (position, row) in values.enumerated() {
            let layerNumbers = layers ?? Array(0..<row.count)
            precondition(row.count == layerNumbers.count,
                         "row \(position) has \(row.count) values but there are \(layerNumbers.count) layers")
            for (column, value) in row.enumerated() {
                append([.string(kind), .int(layerNumbers[column]), .int(position), .string(tokens[position]), .double(value)])
            }
        }
    }
}
