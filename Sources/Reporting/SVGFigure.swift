/// Figures made of several charts.
public enum SVGFigure {
    /// `heatmaps` side by side, top-aligned, left to right, in one SVG document, with an
    /// optional overall title (e.g. hidden state, MLP and attention traces of one prompt).
    public static func sideBySide(_ heatmaps: [SVGHeatmap], title: String? = nil, gap: Double = 16) -> String {
        var canvas = SVGCanvas()
        let titleHeight = title == nil ? 0.0 : 24
        var x = 0.0, height = 0.0
        for heatmap in heatmaps {
            let part = heatmap.drawing()
            canvas.raw("<g transform=\"translate(\(c(x)),\(c(titleHeight)))\">\n" + part.body + "</g>\n")
            x += part.width + gap
            height = max(height, part.height)
        }
        var width = max(0, x - gap)
        if let title {
            width = max(width, TextMetrics.width(title, size: 14) * 1.05 + 16)
            canvas.text(title, x: width / 2, y: 18, anchor: .middle, size: 14, bold: true)
        }
        return SVGCanvas.document(width: width.rounded(.up), height: height + titleHeight, body: canvas.body)
    }
}
