import Linalg

/// Hewitt & Liang's (2019) control task: every word type (the word the label hinges on,
/// e.g. the subject) gets a label drawn at random from the labels' empirical distribution,
/// and every example of that word type carries it. A probe that reaches high accuracy on the
/// control task can memorize word identity; selectivity (task accuracy minus control accuracy)
/// says how much of the task accuracy that memorization does not explain.
public enum ControlTask {
    /// Control labels for `words`, seeded: the word types are sorted, and each draws one of
    /// `labels` uniformly (so classes appear in their empirical proportions).
    public static func labels(words: [String], labels: [Int], seed: UInt64) -> [Int] {
        precondition(words.count == labels.count && !labels.isEmpty, "\(words.count) words, \(labels.count) labels")
        var rng = SeededRandom(seed: seed)
        var assigned: [String: Int] = [:]
        for w in Set(words).sorted() { assigned[w] = labels[Int(rng.next() % UInt64(labels.count))] }
        return words.map { assigned[$0]! }
    }
}
