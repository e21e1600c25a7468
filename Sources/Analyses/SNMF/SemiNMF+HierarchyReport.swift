import Foundation
import Reporting

extension SemiNMF.Hierarchy {
    /// Writes `hierarchy.txt` (each level's pretraining error and the fine-tuned error),
    /// `hierarchy-loss.csv`, `hierarchy.csv` (the tree: each coarse feature's `children`
    /// largest-weighted finer features) and `hierarchy-features.csv` (each level's features in
    /// neuron space, `neurons` largest-magnitude neurons each).
    public func writeReport(to folder: inout ReportFolder, children: Int = 5, neurons shown: Int = 10) throws {
        var text = SummaryText(title: "Semi-NMF hierarchy (deep semi-NMF: A ≈ Z₁ ··· Z_L Y_L)")
        for (i, fit) in pretraining.enumerated() {
            text.field("level \(i + 1) rank \(levels[i].rank), pretrained", "relative error \(NumberFormat.string(fit.relativeError))" + (i == 0 ? " of A" : " of level \(i)'s codes"))
        }
        text.field("stacked pretrained levels", "relative error \(NumberFormat.string(relativeErrors[0])) of A")
        text.field("fine-tuned", "relative error \(NumberFormat.string(relativeError)) of A (sweep \(bestSweep) of \(losses.count - 1))")
        text.blankLine()
        text.sentence("A level-i feature in neuron space is a column of Z₁ ··· Z_i; hierarchy.csv lists, for each feature of levels 2 and up, the finer features it mixes with the largest weights.")
        try folder.write(text.rendered(), to: "hierarchy.txt")
        var loss = CSVTable(header: ["sweep", "loss", "relative_error"])
        for (i, (l, e)) in zip(losses, relativeErrors).enumerated() { loss.append([.int(i), .double(l), .double(e)]) }
        try folder.write(loss, to: "hierarchy-loss.csv")
        var tree = CSVTable(header: ["level", "feature", "rank", "child_level", "child", "weight"])
        for level in 2...max(2, levels.count) where level <= levels.count {
            for f in 0..<levels[level - 1].rank {
                for (r, child) in self.children(level: level, feature: f, count: children).enumerated() {
                    tree.append([.int(level), .int(f), .int(r + 1), .int(level - 1), .int(child.feature), .double(Double(child.weight))])
                }
            }
        }
        try folder.write(tree, to: "hierarchy.csv")
        var table = CSVTable(header: ["level", "feature", "rank", "neuron", "weight"])
        for (i, level) in levels.enumerated() {
            for f in 0..<level.rank {
                let row = level.features[(f * neurons)..<((f + 1) * neurons)]
                for (r, j) in SemiNMF.Result.top(min(shown, neurons), of: row, by: abs).enumerated() where row[row.startIndex + j] != 0 {
                    table.append([.int(i + 1), .int(f), .int(r + 1), .int(j), .double(Double(row[row.startIndex + j]))])
                }
            }
        }
        try folder.write(table, to: "hierarchy-features.csv")
    }
}
