/// Reads CSV text as ``CSVTable`` writes it (RFC 4180: fields separated by commas, quoted
/// with `"` when they hold a comma, quote or line break, `""` for a quote inside).
public enum CSVRecords {
    /// The records of `text`, each a list of fields (the header included); a final line
    /// break does not start an empty record.
    public static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, pendingQuote = false, started = false
        for c in text {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if c == "\"" { field.append(c); continue }
                    quoted = false  // the quote closed the field; fall through to c
                } else if c == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    field.append(c)
                    continue
                }
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true; started = true
            case ",": record.append(field); field = ""; started = true
            case "\n", "\r\n":
                record.append(field)
                records.append(record)
                (record, field, started) = ([], "", false)
            default: field.append(c); started = true
            }
        }
        if started || !record.isEmpty || !field.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
