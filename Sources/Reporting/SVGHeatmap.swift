/// A heatmap of a `[rows][columns]` matrix as SVG: rows are token positions (labelled with
/// ``TokenLabel/display(_:maxLength:)``), columns are usually layers, as in Meng et al. (2022),
/// "Locating and Editing Factual Associations in GPT", figure 1.
///
/// The figure has a title, row labels on the left (highlighted rows get a `*` and bold type,
/// as ROME marks subject tokens), column ticks and an axis label below, and a colour bar on the
/// right with ticks at the range's minimum and maximum. Each cell carries a `<title>` tooltip
/// with its row, column and value. NaN cells are grey.
public struct SVGHeatmap: Sendable {
    /// The title above the grid.
    public var title: String
    /// The values, `[rows][columns]`; every row has the same length.
    public var values: [[Double]]
    /// One raw label per row (token text; shown through ``TokenLabel/display(_:maxLength:)``).
    public var rowLabels: [String]
    /// One label per column (e.g. layer numbers).
    public var columnLabels: [String]
    /// Text under the column labels.
    public var xAxisLabel: String
    /// Text left of the row labels, rotated; empty for none.
    public var yAxisLabel: String
    /// Text beside the colour bar, rotated; empty for none.
    public var colorBarLabel: String
    /// The colour ramp; the range's minimum gets `ramp.low`, its maximum `ramp.high`.
    public var ramp: ColorRamp
    /// Row indices to mark with `*` (subject tokens).
    public var highlightedRows: Set<Int>
    /// A fixed value range (values outside are clamped); `nil` uses the finite values' min and max.
    public var valueRange: ClosedRange<Double>?
    /// Whether row labels are tokens, shown through ``TokenLabel/display(_:maxLength:)``
    /// (spaces as `␣`); `false` shows them as plain escaped text (class names).
    public var rowLabelsAreTokens = true
    /// Whether each cell also prints its value (for small matrices such as confusion matrices).
    public var showsValues = false
    /// Cell width in px.
    public var cellWidth: Double = 14
    /// Cell height in px.
    public var cellHeight: Double = 18

    /// A heatmap of `values` (`[rows][columns]`).
    ///
    /// `columnLabels` defaults to `0, 1, ..., columns-1` (layer numbers).
    public init(title: String, values: [[Double]], rowLabels: [String], columnLabels: [String]? = nil,
                xAxisLabel: String = "layer", yAxisLabel: String = "", colorBarLabel: String = "",
                ramp: ColorRamp = .purples, highlightedRows: Set<Int> = [], valueRange: ClosedRange<Double>? = nil) {
        let columns = values.first?.count ?? 0
        precondition(values.allSatisfy { $0.count == columns }, "heatmap rows differ in length")
        precondition(rowLabels.count == values.count, "\(rowLabels.count) row labels for \(values.count) rows")
        let columnLabels = columnLabels ?? (0..<columns).map(String.init)
        precondition(columnLabels.count == columns, "\(columnLabels.count) column labels for \(columns) columns")
        self.title = title
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.xAxisLabel = xAxisLabel
        self.yAxisLabel = yAxisLabel
        self.colorBarLabel = colorBarLabel
        self.ramp = ramp
        self.highlightedRows = highlightedRows
        self.valueRange = valueRange
    }

    /// The range colours are scaled to: ``valueRange``, or the finite values' min...max
    /// (`0...1` when there are none).
    public var resolvedRange: ClosedRange<Double> {
        if let valueRange { return valueRange }
        let finite = values.joined().filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        return low...high
    }

    /// The fill colour of a cell holding `value`. When the range is a single point every
    /// finite value gets `ramp.low`.
    public func color(for value: Double) -> RGB {
        let range = resolvedRange
        let span = range.upperBound - range.lowerBound
        return ramp.color(at: span > 0 ? (value - range.lowerBound) / span : 0)
    }

    /// The heatmap as a standalone SVG document.
    public func svg() -> String {
        let layout = layout()
        var canvas = SVGCanvas()
        draw(into: &canvas, layout)
        return SVGCanvas.document(width: layout.width, height: layout.height, body: canvas.body)
    }

    /// The heatmap's elements and size, for composing figures (``SVGFigure``).
    func drawing() -> (width: Double, height: Double, body: String) {
        let layout = layout()
        var canvas = SVGCanvas()
        draw(into: &canvas, layout)
        return (layout.width, layout.height, canvas.body)
    }
}

extension SVGHeatmap {
    static let labelSize = 11.0
    static let titleSize = 13.0
    static let margin = 8.0
    static let barWidth = 12.0

    struct Layout {
        var labels: [String]
        var gridX: Double, gridY: Double, gridWidth: Double, gridHeight: Double
        var labelStep: Int
        /// Column labels drawn vertically (text that does not fit under a cell and is not a number).
        var verticalColumnLabels: Bool
        /// Height of the band under the grid holding the column labels.
        var columnLabelHeight: Double
        var barX: Double, barY: Double, barHeight: Double, tickWidth: Double
        var width: Double, height: Double
    }

    /// Row label text: token made visible, `*` for highlighted rows.
    func displayedRowLabel(_ row: Int) -> String {
        (rowLabelsAreTokens ? TokenLabel.display(rowLabels[row]) : rowLabels[row])
            + (highlightedRows.contains(row) ? "*" : "")
    }

    func layout() -> Layout {
        let m = SVGHeatmap.margin, size = SVGHeatmap.labelSize
        let labels = values.indices.map(displayedRowLabel)
        let labelWidth = labels.map { TextMetrics.width($0, size: size, monospace: true) }.max() ?? 0
        let yAxisWidth = yAxisLabel.isEmpty ? 0 : size + 8
        let gridX = m + yAxisWidth + labelWidth + 6
        let gridY = m + SVGHeatmap.titleSize + 10
        let columns = columnLabels.count
        let gridWidth = Double(columns) * cellWidth
        let gridHeight = Double(values.count) * cellHeight
        // Numbers (layers) that do not fit: label every k-th column, k in {1, 2, 5, 10, ...}.
        // Text (class names) that does not fit: label every column, vertically.
        let widest = columnLabels.map { TextMetrics.width($0, size: size) }.max() ?? 0
        let numeric = columnLabels.allSatisfy { Double($0) != nil }
        let vertical = !numeric && widest + 4 > cellWidth
        var labelStep = 1
        if !vertical {
            labelStep = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].first { Double($0) * cellWidth >= widest + 4 } ?? 1000
        }
        let columnLabelHeight = 4 + (vertical ? widest + 2 : size + 2)
        let range = resolvedRange
        let tickWidth = max(TextMetrics.width(NumberFormat.string(range.lowerBound), size: size),
                            TextMetrics.width(NumberFormat.string(range.upperBound), size: size))
        let barX = gridX + gridWidth + 12
        let barHeight = max(gridHeight, 60)
        var width = barX + SVGHeatmap.barWidth + 4 + tickWidth + m
        if !colorBarLabel.isEmpty { width += size + 8 }
        width = max(width, m * 2 + TextMetrics.width(title, size: SVGHeatmap.titleSize) * 1.05)
        let bottom = max(gridY + gridHeight + columnLabelHeight + (xAxisLabel.isEmpty ? 0 : size + 6), gridY + barHeight + size)
        return Layout(labels: labels, gridX: gridX, gridY: gridY, gridWidth: gridWidth, gridHeight: gridHeight,
                      labelStep: labelStep, verticalColumnLabels: vertical, columnLabelHeight: columnLabelHeight, barX: barX, barY: gridY, barHeight: barHeight, tickWidth: tickWidth,
                      width: width.rounded(.up), height: (bottom + m).rounded(.up))
    }

    func draw(into canvas: inout SVGCanvas, _ l: Layout) {
        let size = SVGHeatmap.labelSize
        canvas.text(title, x: l.width / 2, y: SVGHeatmap.margin + SVGHeatmap.titleSize, anchor: .middle,
                    size: SVGHeatmap.titleSize, bold: true)
        for (row, rowValues) in values.enumerated() {
            let y = l.gridY + Double(row) * cellHeight
            canvas.text(l.labels[row], x: l.gridX - 6, y: y + cellHeight / 2 + size * 0.35, anchor: .end,
                        size: size, bold: highlightedRows.contains(row), monospace: true)
            for (column, value) in rowValues.enumerated() {
                let fill = value.isNaN ? "#cccccc" : color(for: value).hex
                let tip = "\(row) \(l.labels[row]), \(xAxisLabel) \(columnLabels[column]): \(NumberFormat.string(value))"
                canvas.rect(x: l.gridX + Double(column) * cellWidth, y: y, width: cellWidth, height: cellHeight,
                            fill: fill, tooltip: tip)
                if showsValues {
                    drawValue(value, x: l.gridX + (Double(column) + 0.5) * cellWidth, y: y, into: &canvas)
                }
            }
        }
        canvas.rect(x: l.gridX, y: l.gridY, width: l.gridWidth, height: l.gridHeight, fill: "none", stroke: "#888888")
        drawColumnAxis(into: &canvas, l)
        if !yAxisLabel.isEmpty {
            let x = SVGHeatmap.margin + size, y = l.gridY + l.gridHeight / 2
            canvas.text(yAxisLabel, x: x, y: y, anchor: .middle, size: size, rotate: -90)
        }
        drawColorBar(into: &canvas, l)
    }

    /// The value centred in its cell, white on the dark half of the ramp.
    private func drawValue(_ value: Double, x: Double, y: Double, into canvas: inout SVGCanvas) {
        let range = resolvedRange
        let span = range.upperBound - range.lowerBound
        let dark = span > 0 && (value - range.lowerBound) / span > 0.6
        canvas.text(NumberFormat.string(value), x: x, y: y + cellHeight / 2 + 3.5, anchor: .middle, size: 10,
                    fill: dark ? "#ffffff" : "#222222")
    }

    private func drawColumnAxis(into canvas: inout SVGCanvas, _ l: Layout) {
        let size = SVGHeatmap.labelSize
        let axisY = l.gridY + l.gridHeight
        for column in stride(from: 0, to: columnLabels.count, by: l.labelStep) {
            let x = l.gridX + (Double(column) + 0.5) * cellWidth
            canvas.line(x1: x, y1: axisY, x2: x, y2: axisY + 3, stroke: "#888888")
            if l.verticalColumnLabels {
                canvas.text(columnLabels[column], x: x + size * 0.35, y: axisY + 5, anchor: .end, size: size, rotate: -90)
            } else {
                canvas.text(columnLabels[column], x: x, y: axisY + 4 + size, anchor: .middle, size: size)
            }
        }
        if !xAxisLabel.isEmpty {
            canvas.text(xAxisLabel, x: l.gridX + l.gridWidth / 2, y: axisY + l.columnLabelHeight + size + 2, anchor: .middle, size: size)
        }
    }

    /// A vertical bar of stacked bands (no gradient ids, so composed figures cannot clash),
    /// minimum at the bottom, with tick labels at the minimum and maximum. Each band reaches
    /// 1 px into the one below, which is drawn first, so no seams show between them.
    private func drawColorBar(into canvas: inout SVGCanvas, _ l: Layout) {
        let size = SVGHeatmap.labelSize, bands = 48
        let bandHeight = l.barHeight / Double(bands)
        for band in 0..<bands {
            let t = (Double(band) + 0.5) / Double(bands)
            let y = l.barY + l.barHeight - Double(band + 1) * bandHeight
            canvas.rect(x: l.barX, y: y, width: SVGHeatmap.barWidth, height: bandHeight + 1,
                        fill: ramp.color(at: t).hex)
        }
        canvas.rect(x: l.barX, y: l.barY, width: SVGHeatmap.barWidth, height: l.barHeight, fill: "none", stroke: "#888888")
        let range = resolvedRange
        let tickX = l.barX + SVGHeatmap.barWidth
        for (value, y) in [(range.upperBound, l.barY), (range.lowerBound, l.barY + l.barHeight)] {
            canvas.line(x1: tickX, y1: y, x2: tickX + 3, y2: y, stroke: "#888888")
            let textY = value == range.upperBound ? y + size * 0.8 : y
            canvas.text(NumberFormat.string(value), x: tickX + 4, y: textY, size: size)
        }
        if !colorBarLabel.isEmpty {
            let x = l.barX + SVGHeatmap.barWidth + 4 + l.tickWidth + 4 + size * 0.35
            canvas.text(colorBarLabel, x: x, y: l.barY + l.barHeight / 2,
                        anchor: .middle, size: size, rotate: 90)
        }
    }
}
