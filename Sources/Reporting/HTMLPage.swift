import Foundation

/// A static `index.html` for a report folder: title, the command that made the report, a
/// `<pre>` summary, then figures, links and paragraphs in order.
///
/// All text is escaped with ``Markup/escape(_:)``; the page is well-formed XML (XHTML
/// syntax served as HTML5) and holds no dates, so the same report gives the same bytes.
/// Styles live in the one `<style>` block (tables, `.label`, `mark`), never on elements, so
/// a page of thousands of tables stays small.
public struct HTMLPage: Sendable {
    /// One piece of the page body, after the summary.
    public enum Block: Sendable, Equatable {
        /// A second-level heading.
        case heading(String)
        /// A third-level heading with an `id`, so links (`#id`, e.g. from a node of an inlined
        /// SVG) jump to it.
        case anchoredHeading(String, id: String)
        /// A paragraph of plain text.
        case paragraph(String)
        /// Preformatted text.
        case preformatted(String)
        /// An image file in the report folder (e.g. `trace.svg`), with a caption.
        case image(file: String, caption: String)
        /// An SVG document made by this module (``SVGHeatmap``, ``SVGLineChart``, ...), inlined.
        /// Only pass SVG from those renderers: the markup goes into the page as it is.
        case inlineSVG(String, caption: String)
        /// A link to a file in the report folder (e.g. `trace.csv`).
        case link(file: String, text: String)
        /// A table of plain-text cells under a header row.
        case table(header: [String], rows: [[String]])
        /// Lines of text each with one marked span, e.g. a token in its context.
        case markedLines([MarkedLine])
    }

    /// A line of ``Block/markedLines(_:)``: `label`, then `before`, `marked` (highlighted) and
    /// `after`, all plain text.
    public struct MarkedLine: Sendable, Equatable {
        public var label: String
        public var before: String
        public var marked: String
        public var after: String

        public init(label: String, before: String, marked: String, after: String) {
            self.label = label
            self.before = before
            self.marked = marked
            self.after = after
        }
    }

    /// The page title (also the `<h1>`).
    public var title: String
    /// Text shown in a `<pre>` block near the top, usually the `summary.txt` contents.
    public var summary: String
    /// The command line that made the report, shown verbatim; `nil` for none.
    public var command: String?
    /// The body after the summary, in order.
    public var blocks: [Block]

    /// A page with a title, a summary, the command that made it and optional first blocks.
    public init(title: String, summary: String = "", command: String? = nil, blocks: [Block] = []) {
        self.title = title
        self.summary = summary
        self.command = command
        self.blocks = blocks
    }

    /// Appends `block` to the body.
    public mutating func append(_ block: Block) {
        blocks.append(block)
    }

    /// The page as HTML text.
    public func rendered() -> String {
        var out = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
            <head>
            <meta charset="utf-8"/>
            <title>\(Markup.escape(title))</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
            pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
            figure { margin: 1.5em 0; } img, svg { max-width: 100%; height: auto; }
            figcaption { color: #555; font-size: 0.9em; }
            table { border-collapse: collapse; }
            th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
            .label { color: #555; }
            mark { background: #ffd54f; }
            </style>
            </head>
            <body>
            <h1>\(Markup.escape(title))</h1>

            """
        if let command {
            out += "<p>Made by:</p>\n<pre><code>\(Markup.escape(command))</code></pre>\n"
        }
        if !summary.isEmpty {
            out += "<pre>\(Markup.escape(summary))</pre>\n"
        }
        for block in blocks { out += html(block) }
        return out + "</body>\n</html>\n"
    }

    private func html(_ block: Block) -> String {
        switch block {
        case .heading(let text):
            return "<h2>\(Markup.escape(text))</h2>\n"
        case .anchoredHeading(let text, let id):
            return "<h3 id=\"\(Markup.escape(id))\">\(Markup.escape(text))</h3>\n"
        case .paragraph(let text):
            return "<p>\(Markup.escape(text))</p>\n"
        case .preformatted(let text):
            return "<pre>\(Markup.escape(text))</pre>\n"
        case .image(let file, let caption):
            return "<figure><img src=\"\(HTMLPage.href(file))\" alt=\"\(Markup.escape(caption))\"/>"
                + "<figcaption>\(Markup.escape(caption))</figcaption></figure>\n"
        case .inlineSVG(let svg, let caption):
            precondition(svg.hasPrefix("<svg "), "inlineSVG takes an SVG document made by Reporting")
            return "<figure>\(svg)<figcaption>\(Markup.escape(caption))</figcaption></figure>\n"
        case .link(let file, let text):
            return "<p><a href=\"\(HTMLPage.href(file))\">\(Markup.escape(text))</a></p>\n"
        case .table(let header, let rows):
            let head = header.map { "<th>\(Markup.escape($0))</th>" }.joined()
            let body = rows.map { row in "<tr>" + row.map { "<td>\(Markup.escape($0))</td>" }.joined() + "</tr>\n" }.joined()
            return "<table>\n<tr>\(head)</tr>\n\(body)</table>\n"
        case .markedLines(let lines):
            let body = lines.map { l in
                "<span class=\"label\">\(Markup.escape(l.label))</span>  \(Markup.escape(l.before))"
                    + "<mark>\(Markup.escape(l.marked))</mark>\(Markup.escape(l.after))\n"
            }.joined()
            return "<pre>\(body)</pre>\n"
        }
    }

    /// A relative link to `file`: percent-encoded path characters, then escaped.
    private static func href(_ file: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":?#;")
        return Markup.escape(file.addingPercentEncoding(withAllowedCharacters: allowed) ?? file)
    }
}
