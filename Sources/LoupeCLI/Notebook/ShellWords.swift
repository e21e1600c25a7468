/// Splits a command line into words as a POSIX shell would for the simple cases notebooks
/// use: whitespace separates words; single quotes keep everything literally; double quotes
/// keep spaces and allow `\"` and `\\`; a backslash outside quotes escapes the next character.
/// Returns nil for unbalanced quotes. No variables, globs or substitutions.
enum ShellWords {
    static func split(_ line: String) -> [String]? {
        var words: [String] = [], current = "", inWord = false
        var it = line.makeIterator()
        while let c = it.next() {
            switch c {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let d = it.next() { if d == "'" { closed = true; break }; current.append(d) }
                if !closed { return nil }
            case "\"":
                inWord = true
                var closed = false
                while let d = it.next() {
                    if d == "\"" { closed = true; break }
                    if d == "\\" {
                        guard let e = it.next() else { return nil }
                        if e != "\"" && e != "\\" && e != "$" && e != "`" { current.append("\\") }
                        current.append(e)
                    } else {
                        current.append(d)
                    }
                }
                if !closed { return nil }
            case "\\":
                guard let e = it.next() else { return nil }
                inWord = true
                current.append(e)
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
