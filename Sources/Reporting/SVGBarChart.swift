/// One bar per labelled category (e.g. a value per layer) as an SVG bar chart, with a zero
/// baseline, y ticks, a title and a tooltip per bar. Negative values hang below the baseline.
public struct SVGBarChart: Sendable {
    /// The title above the plot.
    public var title: String
    /// One label per bar.
    public var labels: [String]
    /// One value per bar; non-finite values draw no bar.
    public var values: [Double]
    /// Text under the category labels.
    public var xAxisLabel: String
    /// Text left of the y axis, rotated.
    public var yAxisLabel: String
    /// Bar colour.
    public var color: RGB
    /// A fixed y range; `nil` widens the data's range (and 0) to nice ticks.
    public var yRange: ClosedRange<Double>?
    /// Width of one bar's slot in px.
    public var slotWidth: Double = 16
    /// Plot area height in px.
    public var plotHeight: Double = 200

    /// A bar chart with one bar per `labels` entry.
    public init(title: String, labels: [String], values: [Double], xAxisLabel: String = "layer",
                yAxisLabel: String = "", color: RGB = RGB.palette[0], yRange: ClosedRange<Double>? = nil) {
        precondition(labels.count == values.count, "\(labels.count) labels for \(values.count) bars")
        self.title = title
        self.labels = labels
        self.values = values
        self.xAxisLabel = xAxisLabel
        self.yAxisLabel = yAxisLabel
        self.color = color
        self.yRange = yRange
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let size = 11.0, m = 8.0
        let finite = values.filter(\.isFinite)
        let (range, ticks): (ClosedRange<Double>, [Double]) = yRange.map { ($0, AxisTicks.inside($0.lowerBound, $0.upperBound, count: 5)) }
            ?? AxisTicks.expanded(min(0, finite.min() ?? 0), max(0, finite.max() ?? 1), count: 5)
        let tickWidth = ticks.map { TextMetrics.width(NumberFormat.string($0), size: size) }.max() ?? 0
        let left = m + (yAxisLabel.isEmpty ? 0 : size + 8) + tickWidth + 8
        let top = m + 13 + 12
        let plotWidth = Double(labels.count) * slotWidth
        let width = max(left + plotWidth + 2 * m, TextMetrics.width(title, size: 13) * 1.05 + 2 * m)
        let height = top + plotHeight + 6 + size + (xAxisLabel.isEmpty ? 0 : size + 8) + m
        let span = range.upperBound - range.lowerBound
        func py(_ v: Double) -> Double {
            top + plotHeight - (min(max(v, range.lowerBound), range.upperBound) - range.lowerBound) / span * plotHeight
        }
        var canvas = SVGCanvas()
        canvas.text(title, x: width / 2, y: m + 13, anchor: .middle, size: 13, bold: true)
        for tick in ticks {
            canvas.line(x1: left, y1: py(tick), x2: left + plotWidth, y2: py(tick), stroke: "#e4e4e4")
            canvas.text(NumberFormat.string(tick), x: left - 5, y: py(tick) + size * 0.35, anchor: .end, size: size)
        }
        let widest = labels.map { TextMetrics.width($0, size: size) }.max() ?? 0
        let step = [1, 2, 5, 10, 20, 50, 100, 1000].first { Double($0) * slotWidth >= widest + 4 } ?? 1000
        let baseline = py(0)
        for (i, value) in values.enumerated() {
            let x = left + Double(i) * slotWidth
            if value.isFinite {
                let y = py(value)
                canvas.rect(x: x + 1.5, y: min(y, baseline), width: slotWidth - 3, height: abs(baseline - y),
                            fill: color.hex, tooltip: "\(xAxisLabel) \(labels[i]): \(NumberFormat.string(value))")
            }
            if i % step == 0 {
                canvas.text(labels[i], x: x + slotWidth / 2, y: top + plotHeight + 6 + size, anchor: .middle, size: size)
            }
        }
        canvas.line(x1: left, y1: top, x2: left, y2: top + plotHeight)
        canvas.line(x1: left, y1: baseline, x2: left + plotWidth, y2: baseline)
        if !xAxisLabel.isEmpty {
            canvas.text(xAxisLabel, x: left + plotWidth / 2, y: top + plotHeight + 2 * size + 12, anchor: .middle, size: size)
        }
        if !yAxisLabel.isEmpty {
            canvas.text(yAxisLabel, x: m + size, y: top + plotHeight / 2, anchor: .middle, size: size, rotate: -90)
        }
        return SVGCanvas.document(width: width.rounded(.up), height: height.rounded(.up), body: canvas.body)
    }
}
