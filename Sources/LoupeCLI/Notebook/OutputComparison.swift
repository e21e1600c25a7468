import Foundation

/// Compares a notebook cell's recorded output with a fresh one: the text must be the same
/// apart from runs of spaces (column alignment follows number widths), and numbers may
/// differ by a relative tolerance (`|a - b| <= rtol * max(|a|, |b|) + atol`), because BLAS
/// builds and thread counts move the last digits.
struct OutputComparison {
    var relativeTolerance: Double
    var absoluteTolerance: Double

    /// Text pieces and numbers, in order.
    enum Piece: Equatable {
        case text(String)
        case number(Double, String)
    }

    /// nil when the outputs agree, else a description of the first difference.
    func difference(expected: String, actual: String) -> String? {
        let a = OutputComparison.pieces(expected), b = OutputComparison.pieces(actual)
        for (i, (x, y)) in zip(a, b).enumerated() {
            switch (x, y) {
            case let (.text(s), .text(t)) where s == t: continue
            case let (.number(u, a), .number(v, b)) where a == b || close(u, v): continue
            default:
                return "expected \(describe(x)) but got \(describe(y)) (piece \(i + 1))"
            }
        }
        if a.count != b.count {
            return a.count > b.count ? "output ends early: missing \(describe(a[b.count]))" : "extra output: \(describe(b[a.count]))"
        }
        return nil
    }

    func close(_ u: Double, _ v: Double) -> Bool {
        if u.isNaN || v.isNaN { return u.isNaN && v.isNaN }
        return abs(u - v) <= relativeTolerance * max(abs(u), abs(v)) + absoluteTolerance
    }

    private func describe(_ p: Piece) -> String {
        switch p {
        case let .text(s): return "'\(s.prefix(60))'"
        case let .number(_, s): return s
        }
    }

    /// Splits `text` into text and numbers; runs of spaces and tabs become one space and
    /// trailing spaces on a line are dropped.
    static func pieces(_ text: String) -> [Piece] {
        let normalized = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .joined(separator: "\n")
        var out: [Piece] = []
        var text = ""
        let scalars = Array(normalized.unicodeScalars)
        var i = 0
        func isDigit(_ k: Int) -> Bool { k < scalars.count && ("0"..."9").contains(scalars[k]) }
        while i < scalars.count {
            // A number starts with a digit, or a sign/point followed by one, and is not glued
            // to a letter before or after it (so "blocks.3", "Q4_1" and hashes stay text).
            let previous = i > 0 ? scalars[i - 1] : " "
            let gluedToWord = previous.properties.isAlphabetic || previous == "_" || previous == "."
            let startsNumber = isDigit(i) || ((scalars[i] == "-" || scalars[i] == ".") && isDigit(i + 1))
            if startsNumber && !gluedToWord {
                var j = i
                if scalars[j] == "-" { j += 1 }
                while isDigit(j) { j += 1 }
                if j < scalars.count && scalars[j] == "." && isDigit(j + 1) { j += 1; while isDigit(j) { j += 1 } }
                if j < scalars.count && (scalars[j] == "e" || scalars[j] == "E") {
                    var k = j + 1
                    if k < scalars.count && (scalars[k] == "-" || scalars[k] == "+") { k += 1 }
                    if isDigit(k) { j = k; while isDigit(j) { j += 1 } }
                }
                let literal = String(String.UnicodeScalarView(scalars[i..<j]))
                // A number glued to a letter after it (a hash such as 49e1671f, "3x") is text.
                let gluedAfter = j < scalars.count && (scalars[j].properties.isAlphabetic || scalars[j] == "_")
                if !gluedAfter, let value = Double(literal), value.isFinite {
                    if !text.isEmpty { out.append(.text(text)); text = "" }
                    out.append(.number(value, literal))
                    i = j
                    continue
                }
            }
            text.unicodeScalars.append(scalars[i])
            i += 1
        }
        if !text.isEmpty { out.append(.text(text)) }
        return out
    }
}
