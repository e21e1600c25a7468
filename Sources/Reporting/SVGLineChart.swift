/// Several named series over a shared x axis (usually layers) as an SVG line chart, each
/// with an optional confidence band drawn as a translucent polygon, plus axes with ticks,
/// a legend to the right of the plot and a title.
public struct SVGLineChart: Sendable {
    /// One line: a value per x, optionally with a band from `lower` to `upper`.
    public struct Series: Sendable {
        /// The legend entry.
        public var name: String
        /// One value per x; non-finite values break the line.
        public var values: [Double]
        /// Lower band edge per x, or `nil` for no band.
        public var lower: [Double]?
        /// Upper band edge per x, or `nil` for no band.
        public var upper: [Double]?
        /// Line colour; `nil` takes the next ``RGB/palette`` colour.
        public var color: RGB?

        /// A series; `lower` and `upper` are given together or not at all.
        public init(name: String, values: [Double], lower: [Double]? = nil, upper: [Double]? = nil, color: RGB? = nil) {
            precondition((lower == nil) == (upper == nil), "series '\(name)': give both band edges or neither")
            precondition(lower.map { $0.count == values.count } ?? true, "series '\(name)': lower band length differs")
            precondition(upper.map { $0.count == values.count } ?? true, "series '\(name)': upper band length differs")
            self.name = name
            self.values = values
            self.lower = lower
            self.upper = upper
            self.color = color
        }
    }

    /// The title above the plot.
    public var title: String
    /// The x positions shared by all series, ascending.
    public var x: [Double]
    /// The lines, drawn in order.
    public var series: [Series]
    /// Text under the x axis.
    public var xAxisLabel: String
    /// Text left of the y axis, rotated.
    public var yAxisLabel: String
    /// A fixed y range; `nil` widens the data's range (bands included) to nice ticks.
    public var yRange: ClosedRange<Double>?
    /// Plot area width in px (axes, legend and title come on top).
    public var plotWidth: Double = 420
    /// Plot area height in px.
    public var plotHeight: Double = 240

    /// A line chart of `series` over `x`; every series has one value per x.
    public init(title: String, x: [Double], series: [Series], xAxisLabel: String = "layer",
                yAxisLabel: String = "", yRange: ClosedRange<Double>? = nil) {
        for s in series {
            precondition(s.values.count == x.count, "series '\(s.name)' has \(s.values.count) values for \(x.count) x")
        }
        self.title = title
        self.x = x
        self.series = series
        self.xAxisLabel = xAxisLabel
        self.yAxisLabel = yAxisLabel
        self.yRange = yRange
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let size = 11.0, m = 8.0
        let (range, yTicks) = yAxis()
        let yTickWidth = yTicks.map { TextMetrics.width(NumberFormat.string($0), size: size) }.max() ?? 0
        let left = m + (yAxisLabel.isEmpty ? 0 : size + 8) + yTickWidth + 8
        let top = m + 13 + 12
        let legendWidth = (series.map { TextMetrics.width($0.name, size: size) }.max() ?? 0) + 30
        let width = max(left + plotWidth + 12 + legendWidth + m, TextMetrics.width(title, size: 13) * 1.05 + 2 * m)
        let height = top + plotHeight + 6 + size + (xAxisLabel.isEmpty ? 0 : size + 8) + m

        let xLow = x.min() ?? 0, xHigh = x.max() ?? 1
        let xSpan = xHigh > xLow ? xHigh - xLow : 1
        let ySpan = range.upperBound - range.lowerBound
        func px(_ v: Double) -> Double { left + (v - xLow) / xSpan * plotWidth }
        func py(_ v: Double) -> Double {
            top + plotHeight - (min(max(v, range.lowerBound), range.upperBound) - range.lowerBound) / ySpan * plotHeight
        }

        var canvas = SVGCanvas()
        canvas.text(title, x: width / 2, y: m + 13, anchor: .middle, size: 13, bold: true)
        // Grid lines and y ticks.
        for tick in yTicks {
            canvas.line(x1: left, y1: py(tick), x2: left + plotWidth, y2: py(tick), stroke: "#e4e4e4")
            canvas.text(NumberFormat.string(tick), x: left - 5, y: py(tick) + size * 0.35, anchor: .end, size: size)
        }
        let integerX = x.allSatisfy { $0 == $0.rounded() }
        for tick in AxisTicks.inside(xLow, xHigh, count: 8, integer: integerX) {
            canvas.line(x1: px(tick), y1: top + plotHeight, x2: px(tick), y2: top + plotHeight + 4)
            canvas.text(NumberFormat.string(tick), x: px(tick), y: top + plotHeight + 6 + size, anchor: .middle, size: size)
        }
        canvas.line(x1: left, y1: top, x2: left, y2: top + plotHeight)
        canvas.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight)
        if !xAxisLabel.isEmpty {
            canvas.text(xAxisLabel, x: left + plotWidth / 2, y: top + plotHeight + 2 * size + 12, anchor: .middle, size: size)
        }
        if !yAxisLabel.isEmpty {
            canvas.text(yAxisLabel, x: m + size, y: top + plotHeight / 2, anchor: .middle, size: size, rotate: -90)
        }
        for (index, s) in series.enumerated() {
            let color = (s.color ?? RGB.palette[index % RGB.palette.count]).hex
            drawSeries(s, color: color, into: &canvas, px: px, py: py)
            // Legend entry.
            let ly = top + 6 + Double(index) * (size + 7)
            let lx = left + plotWidth + 12
            canvas.line(x1: lx, y1: ly, x2: lx + 18, y2: ly, stroke: color, width: 2)
            canvas.text(s.name, x: lx + 24, y: ly + size * 0.35, size: size)
        }
        return SVGCanvas.document(width: width.rounded(.up), height: height.rounded(.up), body: canvas.body)
    }

    /// The band (upper edge left to right, then lower edge right to left: 2 points per x with
    /// finite edges), the line split at non-finite values, and a dot with a tooltip per point.
    private func drawSeries(_ s: Series, color: String, into canvas: inout SVGCanvas,
                            px: (Double) -> Double, py: (Double) -> Double) {
        if let lower = s.lower, let upper = s.upper {
            let kept = x.indices.filter { lower[$0].isFinite && upper[$0].isFinite }
            let points = kept.map { (x: px(x[$0]), y: py(upper[$0])) } + kept.reversed().map { (x: px(x[$0]), y: py(lower[$0])) }
            canvas.raw("<polygon points=\"\(SVGCanvas.points(points))\" fill=\"\(color)\" fill-opacity=\"0.2\" stroke=\"none\"/>\n")
        }
        var segment: [(x: Double, y: Double)] = []
        func flush() {
            if segment.count > 1 {
                canvas.raw("<polyline points=\"\(SVGCanvas.points(segment))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n")
            }
            segment = []
        }
        for (i, value) in s.values.enumerated() {
            guard value.isFinite else { flush(); continue }
            segment.append((px(x[i]), py(value)))
        }
        flush()
        for (i, value) in s.values.enumerated() where value.isFinite {
            var tip = "\(s.name), \(xAxisLabel) \(NumberFormat.string(x[i])): \(NumberFormat.string(value))"
            if let lower = s.lower, let upper = s.upper {
                tip += " [\(NumberFormat.string(lower[i])), \(NumberFormat.string(upper[i]))]"
            }
            canvas.raw("<circle cx=\"\(c(px(x[i])))\" cy=\"\(c(py(value)))\" r=\"2.5\" fill=\"\(color)\">"
                       + "<title>\(Markup.escape(tip))</title></circle>\n")
        }
    }

    private func yAxis() -> (ClosedRange<Double>, [Double]) {
        if let yRange {
            return (yRange, AxisTicks.inside(yRange.lowerBound, yRange.upperBound, count: 5))
        }
        let all = series.flatMap { $0.values + ($0.lower ?? []) + ($0.upper ?? []) }.filter(\.isFinite)
        return AxisTicks.expanded(all.min() ?? 0, all.max() ?? 1, count: 5)
    }
}
