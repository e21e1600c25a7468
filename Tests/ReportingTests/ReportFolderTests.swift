import Foundation
import Reporting
import Testing

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("loupe-reporting-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct ReportFolderTests {
    @Test func refusesNamesOutsideTheFolder() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var folder = try ReportFolder(directory: root.appendingPathComponent("out"))
        for name in ["../x", "..", "a/b", "/etc/passwd", "", ".hidden", "a\\b", "x\u{0}y", "a..b"] {
            #expect(throws: ReportError.self, "\(name)") { try folder.write("no", to: name) }
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path))
        #expect(folder.writtenFiles.isEmpty)
        #expect(throws: ReportError.invalidName("../x", reason: "contains a path separator")) {
            try ReportFolder.validate(name: "../x")
        }
        #expect(throws: ReportError.self) { try ReportFolder(analysis: "../trace", label: "x", root: root) }
    }

    @Test func writesAtomicallyAndRecordsFiles() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var folder = try ReportFolder(analysis: "trace", label: "Eiffel Tower / Paris!", root: root)
        #expect(folder.url.lastPathComponent == "trace-eiffel-tower-paris")
        try folder.write("first", to: "a.txt")
        try folder.write(CSVTable(header: ["x"], rows: [[1]]), to: "b.csv")
        let url = try folder.write("second", to: "a.txt")
        #expect(try String(contentsOf: url, encoding: .utf8) == "second")
        #expect(folder.writtenFiles == ["a.txt", "b.csv"])
        let listing = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
        #expect(listing == ["a.txt", "b.csv"])  // no temporary files left behind
    }

    @Test func refusesAFileAsFolder() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        #expect(throws: ReportError.self) { try ReportFolder(directory: file) }
    }

    @Test func folderNames() {
        #expect(ReportFolder.folderName(analysis: "trace", label: "  ") == "trace-default")
        #expect(ReportFolder.folderName(analysis: "probe", label: "../../etc") == "probe-etc")
        #expect(ReportFolder.folderName(analysis: "steer", label: "Layer_12 v2") == "steer-layer_12-v2")
    }

    /// Writes a whole report (CSV, SVGs, summary, index) into `url`.
    static func writeReport(into url: URL) throws -> ReportFolder {
        var folder = try ReportFolder(directory: url)
        let heatmap = sampleHeatmap()
        var table = CSVTable.longForm()
        table.appendLongForm(kind: "state", values: heatmap.values, tokens: heatmap.rowLabels)
        try folder.write(table, to: "trace.csv")
        try folder.write(SVGFigure.sideBySide([heatmap, sampleHeatmap(ramp: .greens)]), to: "trace.svg")
        try folder.write(SVGLineChartTests.chart().svg(), to: "aie.svg")
        var summary = SummaryText(title: "trace")
        summary.field("prompt", "The Eiffel Tower is")
        try folder.writeSummary(summary)
        try folder.writeIndex(HTMLPage(title: "trace", summary: summary.rendered(), command: "loupe trace",
                                       blocks: [.image(file: "trace.svg", caption: "trace"),
                                                .link(file: "trace.csv", text: "values")]))
        return folder
    }

    @Test func sameInputSameBytes() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try Self.writeReport(into: root.appendingPathComponent("a"))
        let b = try Self.writeReport(into: root.appendingPathComponent("b"))
        #expect(a.writtenFiles == ["trace.csv", "trace.svg", "aie.svg", "summary.txt", "index.html"])
        for name in a.writtenFiles {
            let left = try Data(contentsOf: a.url.appendingPathComponent(name))
            let right = try Data(contentsOf: b.url.appendingPathComponent(name))
            #expect(left == right, "\(name)")
            #expect(!left.isEmpty)
        }
    }
}

@Suite struct HTMLPageTests {
    @Test func wellFormedAndEscaped() throws {
        let hostile = EscapingTests.hostile
        var page = HTMLPage(title: hostile, summary: "key: \(hostile)\n", command: "loupe trace \(hostile)")
        page.append(.heading(hostile))
        page.append(.paragraph(hostile))
        page.append(.image(file: "trace.svg", caption: hostile))
        page.append(.inlineSVG(sampleHeatmap(title: hostile).svg(), caption: hostile))
        page.append(.link(file: "trace data.csv", text: hostile))
        let html = page.rendered()
        #expect(!html.contains("<script"))
        let tree = try #require(XMLTree(html))
        #expect(tree.texts("h1") == [hostile])
        #expect(tree.texts("title").first == hostile)
        #expect(tree.texts("code") == ["loupe trace \(hostile)"])
        #expect(tree.texts("pre").contains("key: \(hostile)\n"))
        #expect(tree.all("img").first?.attributes["src"] == "trace.svg")
        #expect(tree.all("img").first?.attributes["alt"] == hostile)
        #expect(tree.all("a").first?.attributes["href"] == "trace%20data.csv")
        #expect(tree.all("svg").count == 1)
        #expect(tree.texts("figcaption") == [hostile, hostile])
    }

    /// Tables and marked lines escape every cell and mark exactly the marked span.
    @Test func tablesAndMarkedLinesEscapeTheirText() throws {
        let hostile = EscapingTests.hostile
        var page = HTMLPage(title: "latent 7")
        page.append(.table(header: ["token", "logit"], rows: [[hostile, "1.5"], ["b", "-2"]]))
        page.append(.markedLines([.init(label: "0.93", before: "The <b>", marked: hostile, after: " & more"),
                                  .init(label: "0.41", before: "", marked: "x", after: "")]))
        let tree = try #require(XMLTree(page.rendered()))
        #expect(tree.texts("th") == ["token", "logit"])
        #expect(tree.texts("td") == [hostile, "1.5", "b", "-2"])
        #expect(tree.texts("mark") == [hostile, "x"])
        // A <pre>'s own text leaves out its children's (the label's span, the mark).
        #expect(tree.texts("pre").contains { $0.contains("The <b>") && $0.contains(" & more") })
    }

    /// Styles are in the one `<style>` block, not on elements (a graph page has thousands of
    /// table cells): no element carries a `style` attribute, cells are bare `<td>`, and the
    /// block styles tables, labels and marks as the inline styles did.
    @Test func stylesLiveInTheStyleBlockOnly() throws {
        var page = HTMLPage(title: "graph")
        for i in 0..<3 {
            page.append(.anchoredHeading("L\(i) #7", id: "node-\(i)"))
            page.append(.table(header: ["node", "weight"], rows: [["L1 #2 @3", "0.5"], ["token @1 'the'", "-1.25"]]))
            page.append(.markedLines([.init(label: "0.93", before: "The ", marked: "cat", after: " sat")]))
        }
        let html = page.rendered()
        let tree = try #require(XMLTree(html))
        #expect(tree.elements.allSatisfy { $0.attributes["style"] == nil }, "an element with a style attribute")
        let style = try #require(tree.texts("style").first)
        #expect(style.contains("th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }"))
        #expect(style.contains("table { border-collapse: collapse; }") && style.contains("mark { background: #ffd54f; }"))
        #expect(style.contains(".label { color: #555; }"))
        #expect(tree.texts("td") == Array(repeating: ["L1 #2 @3", "0.5", "token @1 'the'", "-1.25"], count: 3).flatMap { $0 })
        #expect(tree.all("span").map { $0.attributes["class"] } == ["label", "label", "label"])
        #expect(tree.texts("span") == ["0.93", "0.93", "0.93"] && tree.texts("mark") == ["cat", "cat", "cat"])
        #expect(html.contains("<tr><th>node</th><th>weight</th></tr>") && html.contains("<td>-1.25</td>"))
    }
}
