import Foundation
import Reporting
import Testing

/// A small trace-like heatmap: 4 positions x 6 layers, values 0...1 with one NaN.
func sampleHeatmap(title: String = "Restoring state", ramp: ColorRamp = .purples,
                   tokens: [String] = [" The", " Eiffel", " Tower", " is"]) -> SVGHeatmap {
    let values = (0..<tokens.count).map { row in
        (0..<6).map { layer in Double(row * 6 + layer) / Double(tokens.count * 6 - 1) }
    }
    return SVGHeatmap(title: title, values: values, rowLabels: tokens, ramp: ramp, highlightedRows: [1, 2])
}

@Suite struct SVGHeatmapTests {
    @Test func isWellFormedWithTooltipPerCell() throws {
        let tree = try #require(XMLTree(sampleHeatmap().svg()))
        let cells = tree.tooltipRects()
        #expect(cells.count == 24)
        #expect(cells.contains { $0.tooltip == "1 ␣Eiffel*, layer 5: 0.478261" })
        #expect(tree.texts("text").contains("␣Eiffel*"))
        #expect(tree.texts("text").contains("␣The"))
        #expect(tree.texts("text").contains("Restoring state"))
    }

    @Test func minAndMaxCellsGetTheRampEnds() throws {
        for ramp in [ColorRamp.purples, .greens, .reds] {
            let heatmap = SVGHeatmap(title: "t", values: [[-0.25, 0.5], [1.5, 0]], rowLabels: ["a", "b"], ramp: ramp)
            #expect(heatmap.color(for: -0.25) == ramp.low)
            #expect(heatmap.color(for: 1.5) == ramp.high)
            let cells = try #require(XMLTree(heatmap.svg())).tooltipRects()
            let minCell = try #require(cells.first { $0.tooltip.hasSuffix(": -0.25") })
            let maxCell = try #require(cells.first { $0.tooltip.hasSuffix(": 1.5") })
            #expect(minCell.rect.attributes["fill"] == ramp.low.hex)
            #expect(maxCell.rect.attributes["fill"] == ramp.high.hex)
        }
    }

    @Test func colorBarTicksShowMinAndMax() throws {
        let heatmap = SVGHeatmap(title: "t", values: [[-0.25, 0.5], [1.5, 0]], rowLabels: ["a", "b"])
        let texts = try #require(XMLTree(heatmap.svg())).texts("text")
        #expect(texts.contains("-0.25"))
        #expect(texts.contains("1.5"))
    }

    @Test func fixedRangeClampsAndLabelsTheBar() throws {
        var heatmap = SVGHeatmap(title: "t", values: [[-3, 0.5, 7]], rowLabels: ["a"], valueRange: 0...1)
        heatmap.colorBarLabel = "p(Paris)"
        #expect(heatmap.resolvedRange == 0...1)
        #expect(heatmap.color(for: -3) == heatmap.ramp.low)
        #expect(heatmap.color(for: 7) == heatmap.ramp.high)
        let texts = try #require(XMLTree(heatmap.svg())).texts("text")
        #expect(texts.contains("0") && texts.contains("1") && texts.contains("p(Paris)"))
    }

    @Test func nanCellsAreGreyAndSaySo() throws {
        let heatmap = SVGHeatmap(title: "t", values: [[.nan, 1, 2]], rowLabels: ["a"])
        let cells = try #require(XMLTree(heatmap.svg())).tooltipRects()
        #expect(cells.first { $0.tooltip.hasSuffix(": nan") }?.rect.attributes["fill"] == "#cccccc")
        #expect(heatmap.resolvedRange == 1...2)
    }

    @Test func hostileLabelsAreEscaped() throws {
        let hostile = EscapingTests.hostile
        let heatmap = SVGHeatmap(title: hostile, values: [[1, 2]], rowLabels: [hostile],
                                 columnLabels: [hostile, "\u{202E}x"], xAxisLabel: hostile, yAxisLabel: hostile,
                                 colorBarLabel: hostile)
        let svg = heatmap.svg()
        #expect(!svg.contains("<script"))
        #expect(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"))
        let tree = try #require(XMLTree(svg))
        #expect(tree.texts("text").filter { $0 == hostile }.count >= 3)
        #expect(tree.texts("text").contains(TokenLabel.display(hostile)))
        #expect(tree.all("script").isEmpty)
    }

    @Test func controlAndEmojiLabelsParse() throws {
        let tokens = ["\u{0}", "\n", "\u{1B}[31m", "👩‍💻", "مرحبا", "\u{FFFE}", "&amp;"]
        let heatmap = SVGHeatmap(title: "t\u{7}", values: tokens.map { _ in [0.0, 1] }, rowLabels: tokens)
        let tree = try #require(XMLTree(heatmap.svg()))
        let texts = tree.texts("text")
        #expect(texts.contains("␀") && texts.contains("↵") && texts.contains("␛[31m") && texts.contains("👩‍💻"))
        #expect(texts.contains("&amp;"))
    }

    @Test func sideBySideComposesAllMaps() throws {
        let svg = SVGFigure.sideBySide([sampleHeatmap(title: "state"), sampleHeatmap(title: "MLP", ramp: .greens),
                                        sampleHeatmap(title: "attention", ramp: .reds)], title: "Causal trace")
        let tree = try #require(XMLTree(svg))
        #expect(tree.all("svg").count == 1)
        #expect(tree.all("g").count == 3)
        #expect(tree.tooltipRects().count == 72)
        let fills = Set(tree.tooltipRects().map { $0.rect.attributes["fill"] ?? "" })
        for ramp in [ColorRamp.purples, .greens, .reds] {
            #expect(fills.contains(ramp.high.hex))
        }
        #expect(tree.texts("text").contains("Causal trace"))
    }

    @Test func smallMatrixWithValuesAndPlainLabels() throws {
        var heatmap = SVGHeatmap(title: "confusion", values: [[5, 1], [2, 7]], rowLabels: ["true Paris", "true Rome"],
                                 columnLabels: ["Paris", "Rome"], xAxisLabel: "predicted", ramp: .blues)
        heatmap.rowLabelsAreTokens = false
        heatmap.showsValues = true
        let tree = try #require(XMLTree(heatmap.svg()))
        let texts = tree.texts("text")
        #expect(texts.contains("true Paris") && texts.contains("Paris") && texts.contains("Rome"))
        #expect(["5", "1", "2", "7"].allSatisfy(texts.contains))
        // Class names wider than a cell are all shown, rotated, not thinned out like layer numbers.
        let rotated = tree.all("text").filter { ($0.attributes["transform"] ?? "").hasPrefix("rotate(-90") }
        #expect(rotated.map(\.text) == ["Paris", "Rome"])
    }

    @Test func sameInputSameBytes() {
        #expect(sampleHeatmap().svg() == sampleHeatmap().svg())
    }
}

@Suite struct ColorRampTests {
    @Test func endsAndMiddle() {
        let ramp = ColorRamp(stops: [RGB(hex: 0xffffff), RGB(hex: 0x000000)])
        #expect(ramp.color(at: 0) == ramp.low)
        #expect(ramp.color(at: 1) == ramp.high)
        #expect(ramp.color(at: 0.5).hex == "#808080")
        #expect(ramp.color(at: -3) == ramp.low && ramp.color(at: 9) == ramp.high && ramp.color(at: .nan) == ramp.low)
        #expect(RGB(hex: 0x0a0b0c).hex == "#0a0b0c")
    }
}

@Suite struct SVGLineChartTests {
    static func chart(title: String = "Average indirect effect") -> SVGLineChart {
        let x = (0..<12).map(Double.init)
        let state = x.map { 0.1 + 0.3 * exp(-($0 - 4) * ($0 - 4) / 8) }
        let mlp = x.map { 0.05 + 0.2 * exp(-($0 - 6) * ($0 - 6) / 4) }
        return SVGLineChart(title: title, x: x, series: [
            .init(name: "state", values: state, lower: state.map { $0 - 0.03 }, upper: state.map { $0 + 0.03 },
                  color: ColorRamp.purples.accent),
            .init(name: "MLP", values: mlp, lower: mlp.map { $0 - 0.02 }, upper: mlp.map { $0 + 0.02 },
                  color: ColorRamp.greens.accent),
            .init(name: "no band", values: x.map { $0 == 5 ? .nan : 0.02 * $0 }),
        ], yAxisLabel: "AIE")
    }

    @Test func bandPolygonsHaveTwoPointsPerX() throws {
        let tree = try #require(XMLTree(Self.chart().svg()))
        let polygons = tree.all("polygon")
        #expect(polygons.count == 2)
        for polygon in polygons {
            let points = (polygon.attributes["points"] ?? "").split(separator: " ")
            #expect(points.count == 24)
            #expect(points.allSatisfy { $0.split(separator: ",").count == 2 })
        }
    }

    @Test func legendAxesAndBrokenLine() throws {
        let tree = try #require(XMLTree(Self.chart().svg()))
        let texts = tree.texts("text")
        for label in ["state", "MLP", "no band", "layer", "AIE", "Average indirect effect", "0", "10"] {
            #expect(texts.contains(label), "\(label)")
        }
        // Two line segments around the NaN plus one line each for the banded series.
        #expect(tree.all("polyline").count == 4)
        #expect(tree.texts("title").contains("state, layer 4: 0.4 [0.37, 0.43]"))
    }

    @Test func hostileNamesAreEscaped() throws {
        let hostile = EscapingTests.hostile
        let chart = SVGLineChart(title: hostile, x: [0, 1], series: [.init(name: hostile, values: [0, 1])],
                                 xAxisLabel: hostile, yAxisLabel: hostile)
        let svg = chart.svg()
        #expect(!svg.contains("<script"))
        #expect(try #require(XMLTree(svg)).texts("text").filter { $0 == hostile }.count == 4)
    }

    @Test func sameInputSameBytes() {
        #expect(Self.chart().svg() == Self.chart().svg())
    }
}

@Suite struct SVGBarChartTests {
    @Test func barsWithTooltipsAndNegativeValues() throws {
        let chart = SVGBarChart(title: "Probe accuracy", labels: (0..<5).map(String.init),
                                values: [0.5, -0.25, 1, .nan, 0.75], yAxisLabel: "accuracy")
        let tree = try #require(XMLTree(chart.svg()))
        let bars = tree.tooltipRects()
        #expect(bars.count == 4)
        #expect(bars.map(\.tooltip) == ["layer 0: 0.5", "layer 1: -0.25", "layer 2: 1", "layer 4: 0.75"])
        #expect(tree.texts("text").contains("Probe accuracy"))
        #expect(tree.texts("text").contains("-0.25") || tree.texts("text").contains("-0.5"))
    }
}
