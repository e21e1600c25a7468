import Foundation

/// Accumulates SVG elements with fixed number formatting; every string passes through
/// ``Markup/escape(_:)``. Internal: the chart types are the public face.
struct SVGCanvas {
    /// Font stacks: DejaVu is on Debian, so files render the same under rsvg and browsers there.
    static let sansFont = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let monoFont = "DejaVu Sans Mono, Menlo, Consolas, monospace"

    private(set) var body = ""

    enum Anchor: String { case start, middle, end }

    mutating func raw(_ markup: String) { body += markup }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       stroke: String? = nil, tooltip: String? = nil) {
        var s = "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(width))\" height=\"\(c(height))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\" stroke-width=\"1\"" }
        if let tooltip {
            s += "><title>\(Markup.escape(tooltip))</title></rect>\n"
        } else {
            s += "/>\n"
        }
        body += s
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String = "#333333",
                       width: Double = 1, dash: String? = nil) {
        var s = "<line x1=\"\(c(x1))\" y1=\"\(c(y1))\" x2=\"\(c(x2))\" y2=\"\(c(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(c(width))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        body += s + "/>\n"
    }

    mutating func text(_ string: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 11,
                       bold: Bool = false, monospace: Bool = false, rotate: Double? = nil, fill: String = "#222222") {
        var s = "<text x=\"\(c(x))\" y=\"\(c(y))\" font-size=\"\(c(size))\""
        if anchor != .start { s += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { s += " font-weight=\"bold\"" }
        if monospace { s += " font-family=\"\(SVGCanvas.monoFont)\" xml:space=\"preserve\"" }
        if let rotate { s += " transform=\"rotate(\(c(rotate)) \(c(x)) \(c(y)))\"" }
        if fill != "#222222" { s += " fill=\"\(fill)\"" }
        body += s + ">\(Markup.escape(string))</text>\n"
    }

    /// `points` as an SVG `points` attribute value: `x,y x,y ...`.
    static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(c($0.x)),\(c($0.y))" }.joined(separator: " ")
    }

    /// A standalone SVG document of the given size around `body`, on a white background.
    static func document(width: Double, height: Double, body: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(c(width))\" height=\"\(c(height))\" "
            + "viewBox=\"0 0 \(c(width)) \(c(height))\" font-family=\"\(sansFont)\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(c(width))\" height=\"\(c(height))\" fill=\"#ffffff\"/>\n"
            + body + "</svg>\n"
    }
}

/// Shorthand for a coordinate.
func c(_ value: Double) -> String { NumberFormat.coordinate(value) }

/// Approximate rendered text widths, for layout only (no font files are read).
enum TextMetrics {
    /// Width of `text` at `size` px: 0.6 em per character in the monospace font, 0.58 em in the
    /// sans font (generous, so labels never collide), 1.2 em for wide (CJK, emoji) characters.
    static func width(_ text: String, size: Double, monospace: Bool = false) -> Double {
        var ems = 0.0
        for character in text {
            let v = character.unicodeScalars.first!.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFF00...0xFF60).contains(v) || (0x1F300...0x1FAFF).contains(v)
                || (0x20000...0x3FFFD).contains(v)
            ems += wide ? 1.2 : (monospace ? 0.6 : 0.58)
        }
        return ems * size
    }
}

/// "Nice" axis ticks (steps of 1, 2 or 5 times a power of ten) covering `low...high`.
enum AxisTicks {
    /// The tick step for about `count` intervals over `span`.
    static func step(span: Double, count: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, count))
        let magnitude = pow10(floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// `low...high` widened outward to multiples of a nice step, with the ticks in it.
    static func expanded(_ low: Double, _ high: Double, count: Int = 5) -> (range: ClosedRange<Double>, ticks: [Double]) {
        var low = low, high = high
        if !(low.isFinite && high.isFinite) { low = 0; high = 1 }
        if low == high { low -= 0.5; high += 0.5 }
        let s = step(span: high - low, count: count)
        let first = (low / s).rounded(.down), last = (high / s).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { cleaned($0 * s) }
        return (cleaned(first * s)...cleaned(last * s), ticks)
    }

    /// Ticks inside `low...high` (not widened), for axes whose ends are fixed, such as layers.
    static func inside(_ low: Double, _ high: Double, count: Int = 6, integer: Bool = false) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return low.isFinite ? [low] : [] }
        var s = step(span: high - low, count: count)
        if integer { s = max(1, s.rounded(.up)) }
        let first = (low / s).rounded(.up), last = (high / s).rounded(.down)
        guard first <= last else { return [low] }
        return stride(from: first, through: last, by: 1).map { cleaned($0 * s) }
    }

    /// Drops binary noise such as 0.30000000000000004 so tick labels stay short.
    private static func cleaned(_ v: Double) -> Double {
        let rounded = (v * 1e9).rounded() / 1e9
        return rounded == 0 ? 0 : rounded
    }

    private static func pow10(_ e: Double) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
        return r
    }
}
