import Foundation
import Reporting

extension SAEEvaluationResult {
    /// Writes `sae-eval.json` (the metrics, as `--format json` prints them) and
    /// `feature_density.csv` (per latent: rows fired on, density, whether dead or dense)
    /// into `directory`, created if needed.
    /// - Returns: the files written.
    /// - Throws: ``Reporting/ReportError`` when the folder or a file cannot be written.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        var folder = try ReportFolder(directory: URL(fileURLWithPath: directory, isDirectory: true))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try folder.write(try encoder.encode(self), to: "sae-eval.json")
        var table = CSVTable(header: ["latent", "fired_rows", "density", "dead", "dense"])
        for (i, density) in featureDensity.enumerated() {
            let fired = Int((density * Double(tokens)).rounded())
            table.append([.int(i), .int(fired), .double(density), .int(fired == 0 ? 1 : 0), .int(density > denseThreshold ? 1 : 0)])
        }
        try folder.write(table, to: "feature_density.csv")
        return folder.writtenFiles.map { folder.url.appendingPathComponent($0).path }
    }
}
