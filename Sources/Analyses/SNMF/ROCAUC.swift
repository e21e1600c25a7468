/// The area under the ROC curve of scores separating positives from negatives: the
/// probability that a random positive scores above a random negative, ties counting half
/// (the Mann-Whitney U statistic over the product of the class sizes, with average ranks).
public enum ROCAUC {
    /// AUC of `scores` with `positive[i]` saying which class row i is; nil when either class
    /// is empty or a score is not finite.
    public static func of(_ scores: [Double], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "\(scores.count) scores for \(positive.count) labels")
        let p = positive.filter { $0 }.count, n = positive.count - p
        guard p > 0, n > 0, scores.allSatisfy(\.isFinite) else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1  // ranks are 1-based
            for t in i...j { ranks[order[t]] = average }
            i = j + 1
        }
        let positiveRanks = zip(ranks, positive).filter { $0.1 }.reduce(0.0) { $0 + $1.0 }
        return (positiveRanks - Double(p * (p + 1)) / 2) / Double(p * n)
    }
}
