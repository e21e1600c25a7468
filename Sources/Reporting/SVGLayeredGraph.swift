import Foundation

/// A node-link diagram on a grid of rows (drawn bottom to top) and columns (left to right),
/// such as an attribution graph: rows are layers, columns prompt positions. Nodes sharing a
/// cell sit side by side in it, in the order given; each node may link to an anchor (clicking
/// it jumps there). Edges are straight lines whose width follows |weight| (relative to the
/// largest drawn) and whose colour follows its sign (positive red, negative blue), drawn under
/// the nodes, weakest first. Output is deterministic: the same input gives the same bytes.
///
/// Every node is a `<g class="node" data-node="ID" data-row="R" data-column="C"
/// transform="translate(X,Y)">`, every edge a `<line class="edge" ...>`, so tests and scripts
/// can read the drawing back.
public struct SVGLayeredGraph: Sendable {
    public enum Shape: String, Sendable { case circle, square, diamond, rectangle }

    public struct Node: Sendable, Equatable {
        /// Written as `data-node` (e.g. the node's index in the graph).
        public var id: String
        public var row: Int
        public var column: Int
        public var shape: Shape
        public var fill: RGB
        /// Shown on hover.
        public var tooltip: String
        /// A short label drawn beside the node (e.g. a logit's token), or nil.
        public var label: String?
        /// Where clicking the node goes (e.g. `#node-12`), or nil.
        public var link: String?

        public init(id: String, row: Int, column: Int, shape: Shape, fill: RGB, tooltip: String, label: String? = nil, link: String? = nil) {
            (self.id, self.row, self.column, self.shape, self.fill) = (id, row, column, shape, fill)
            (self.tooltip, self.label, self.link) = (tooltip, label, link)
        }
    }

    public struct Edge: Sendable, Equatable {
        /// Indices into ``nodes``.
        public var source: Int
        public var target: Int
        public var weight: Double
        public var tooltip: String

        public init(source: Int, target: Int, weight: Double, tooltip: String = "") {
            (self.source, self.target, self.weight, self.tooltip) = (source, target, weight, tooltip)
        }
    }

    public var title: String
    /// Names of the rows, bottom first (e.g. `emb`, `L0`, ..., `logits`).
    public var rowLabels: [String]
    /// Names of the columns, left first (e.g. the prompt's tokens).
    public var columnLabels: [String]
    public var nodes: [Node]
    public var edges: [Edge]
    /// Kinds shown in the legend: (shape, fill, name).
    public var legend: [(shape: Shape, fill: RGB, name: String)]

    public static let positive = RGB(hex: 0xd6604d)
    public static let negative = RGB(hex: 0x4393c3)

    public init(title: String, rowLabels: [String], columnLabels: [String], nodes: [Node], edges: [Edge],
                legend: [(shape: Shape, fill: RGB, name: String)] = []) {
        (self.title, self.rowLabels, self.columnLabels, self.nodes, self.edges, self.legend) = (title, rowLabels, columnLabels, nodes, edges, legend)
    }

    // Layout constants.
    static let rowHeight = 26.0, nodeSpacing = 13.0, minColumnWidth = 64.0, radius = 5.0
    static let left = 64.0, bottomLabels = 90.0, right = 24.0

    /// Space above the top row: the title and legend, and room for the node labels, which are
    /// drawn slanted up to the right so neighbours do not collide.
    var top: Double { 56 + labelRoom }

    /// How far the longest slanted label reaches up (and right).
    var labelRoom: Double {
        let longest = nodes.compactMap(\.label).map { TextMetrics.width(TokenLabel.display($0, maxLength: 12), size: 9) }.max() ?? 0
        return (longest * 0.71).rounded(.up)
    }

    /// Width of each column: room for the busiest cell of that column, at least `minColumnWidth`.
    func columnWidths() -> [Double] {
        var most = [Int](repeating: 0, count: columnLabels.count)
        var counts: [Int: Int] = [:]
        for n in nodes where most.indices.contains(n.column) {
            counts[n.row * columnLabels.count + n.column, default: 0] += 1
            most[n.column] = max(most[n.column], counts[n.row * columnLabels.count + n.column]!)
        }
        return most.map { max(Self.minColumnWidth, Double($0 + 1) * Self.nodeSpacing) }
    }

    /// The centre of every node, in ``nodes`` order.
    public func positions() -> [(x: Double, y: Double)] {
        let widths = columnWidths(), rows = rowLabels.count
        var starts = [Double](), x = Self.left
        for w in widths { starts.append(x); x += w }
        var inCell: [Int: [Int]] = [:]
        for (i, n) in nodes.enumerated() { inCell[n.row * max(columnLabels.count, 1) + n.column, default: []].append(i) }
        var out = [(x: Double, y: Double)](repeating: (0, 0), count: nodes.count)
        for (_, members) in inCell {
            for (k, i) in members.enumerated() {
                let n = nodes[i]
                let column = min(max(n.column, 0), max(widths.count - 1, 0))
                let width = widths.isEmpty ? Self.minColumnWidth : widths[column]
                let start = starts.isEmpty ? Self.left : starts[column]
                let cx = start + width / 2 + (Double(k) - Double(members.count - 1) / 2) * Self.nodeSpacing
                let cy = top + (Double(rows - 1 - n.row) + 0.5) * Self.rowHeight
                out[i] = (cx, cy)
            }
        }
        return out
    }

    /// The standalone SVG document.
    public func svg() -> String {
        let widths = columnWidths(), rows = rowLabels.count
        let plotWidth = widths.reduce(0, +), plotHeight = Double(rows) * Self.rowHeight
        let legendWidth = legend.reduce(0.0) { $0 + 24 + TextMetrics.width($1.name, size: 11) + 12 }
        let width = max(Self.left + plotWidth + max(Self.right, labelRoom + 8), TextMetrics.width(title, size: 14) + 32, legendWidth + 32).rounded(.up)
        let height = top + plotHeight + Self.bottomLabels
        var canvas = SVGCanvas()
        canvas.text(title, x: width / 2, y: 18, anchor: .middle, size: 14, bold: true)
        // Legend: node kinds, then edge signs.
        var lx = 16.0
        for item in legend {
            canvas.raw(Self.shape(item.shape, fill: item.fill.hex, at: (lx + 6, 36)))
            canvas.text(item.name, x: lx + 16, y: 40, size: 11)
            lx += 24 + TextMetrics.width(item.name, size: 11) + 12
        }
        for (name, color) in [("positive edge", Self.positive), ("negative edge", Self.negative)] {
            canvas.line(x1: lx, y1: 36, x2: lx + 18, y2: 36, stroke: color.hex, width: 2.5)
            canvas.text(name, x: lx + 22, y: 40, size: 11)
            lx += 30 + TextMetrics.width(name, size: 11) + 12
        }
        // Row bands and labels.
        for r in 0..<rows {
            let y = top + Double(rows - 1 - r) * Self.rowHeight
            if r % 2 == 0 { canvas.rect(x: Self.left, y: y, width: plotWidth, height: Self.rowHeight, fill: "#f7f7f7") }
            canvas.text(rowLabels[r], x: Self.left - 6, y: y + Self.rowHeight / 2 + 4, anchor: .end, size: 10)
        }
        // Column separators and labels (rotated, under the plot).
        var x = Self.left
        for (j, w) in widths.enumerated() {
            if j > 0 { canvas.line(x1: x, y1: top, x2: x, y2: top + plotHeight, stroke: "#e0e0e0") }
            canvas.text(TokenLabel.display(columnLabels[j], maxLength: 14), x: x + w / 2, y: top + plotHeight + 14,
                        anchor: .end, size: 11, monospace: true, rotate: -45)
            x += w
        }
        let at = positions()
        let strongest = edges.reduce(0.0) { max($0, abs($1.weight)) }
        let order = edges.indices.sorted { abs(edges[$0].weight) != abs(edges[$1].weight) ? abs(edges[$0].weight) < abs(edges[$1].weight) : $0 < $1 }
        canvas.raw("<g class=\"edges\" stroke-linecap=\"round\">\n")
        for i in order {
            let e = edges[i]
            guard nodes.indices.contains(e.source), nodes.indices.contains(e.target) else { continue }
            let (a, b) = (at[e.source], at[e.target])
            let w = strongest > 0 ? 0.4 + 3.6 * abs(e.weight) / strongest : 1
            let color = e.weight >= 0 ? Self.positive : Self.negative
            let opacity = strongest > 0 ? 0.35 + 0.6 * abs(e.weight) / strongest : 0.6
            canvas.raw("<line class=\"edge\" data-source=\"\(Markup.escape(nodes[e.source].id))\" data-target=\"\(Markup.escape(nodes[e.target].id))\" "
                       + "x1=\"\(c(a.x))\" y1=\"\(c(a.y))\" x2=\"\(c(b.x))\" y2=\"\(c(b.y))\" stroke=\"\(color.hex)\" "
                       + "stroke-width=\"\(c(w))\" stroke-opacity=\"\(c(opacity))\"><title>\(Markup.escape(e.tooltip))</title></line>\n")
        }
        canvas.raw("</g>\n")
        for (i, n) in nodes.enumerated() {
            var g = "<g class=\"node\" data-node=\"\(Markup.escape(n.id))\" data-row=\"\(n.row)\" data-column=\"\(n.column)\" "
                + "transform=\"translate(\(c(at[i].x)),\(c(at[i].y)))\"><title>\(Markup.escape(n.tooltip))</title>"
            g += Self.shape(n.shape, fill: n.fill.hex, at: (0, 0))
            if let label = n.label {
                g += "<text x=\"2\" y=\"-8\" font-size=\"9\" transform=\"rotate(-45 2 -8)\">\(Markup.escape(TokenLabel.display(label, maxLength: 12)))</text>"
            }
            g += "</g>"
            if let link = n.link { g = "<a href=\"\(Markup.escape(link))\">\(g)</a>" }
            canvas.raw(g + "\n")
        }
        return SVGCanvas.document(width: width, height: height, body: canvas.body)
    }

    /// One node's shape centred on `p`.
    static func shape(_ shape: Shape, fill: String, at p: (x: Double, y: Double)) -> String {
        let r = radius, stroke = "stroke=\"#333333\" stroke-width=\"0.8\""
        switch shape {
        case .circle:
            return "<circle cx=\"\(c(p.x))\" cy=\"\(c(p.y))\" r=\"\(c(r))\" fill=\"\(fill)\" \(stroke)/>"
        case .square:
            return "<rect x=\"\(c(p.x - r))\" y=\"\(c(p.y - r))\" width=\"\(c(2 * r))\" height=\"\(c(2 * r))\" fill=\"\(fill)\" \(stroke)/>"
        case .rectangle:
            return "<rect x=\"\(c(p.x - 1.6 * r))\" y=\"\(c(p.y - r))\" width=\"\(c(3.2 * r))\" height=\"\(c(2 * r))\" rx=\"2\" fill=\"\(fill)\" \(stroke)/>"
        case .diamond:
            let pts = SVGCanvas.points([(p.x, p.y - 1.3 * r), (p.x + 1.3 * r, p.y), (p.x, p.y + 1.3 * r), (p.x - 1.3 * r, p.y)])
            return "<polygon points=\"\(pts)\" fill=\"\(fill)\" \(stroke)/>"
        }
    }
}
