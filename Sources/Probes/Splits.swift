import Linalg

/// Seeded, stratified splits: every class is shuffled with the seed and dealt out on its
/// own, so each part keeps the class proportions. Orders depend only on the seed.
public enum Splits {
    /// Train and test row indices: `testFraction` of each class (rounded, at least one when
    /// the class has two or more rows) goes to test.
    public static func trainTest(labels: [Int], testFraction: Double, seed: UInt64) -> (train: [Int], test: [Int]) {
        var rng = SeededRandom(seed: seed)
        var train: [Int] = [], test: [Int] = []
        for rows in byClass(labels) {
            let shuffled = shuffle(rows, &rng)
            var k = Int((Double(rows.count) * testFraction).rounded())
            if rows.count >= 2 { k = min(max(k, 1), rows.count - 1) } else { k = 0 }
            test += shuffled.prefix(k)
            train += shuffled.dropFirst(k)
        }
        return (train.sorted(), test.sorted())
    }

    /// `k` folds of row indices (each a held-out set); the rows of each class are dealt
    /// round-robin after a seeded shuffle.
    public static func folds(labels: [Int], k: Int, seed: UInt64) -> [[Int]] {
        var rng = SeededRandom(seed: seed)
        var folds = Array(repeating: [Int](), count: k)
        var next = 0
        for rows in byClass(labels) {
            for r in shuffle(rows, &rng) { folds[next % k].append(r); next += 1 }
        }
        return folds.map { $0.sorted() }
    }

    static func byClass(_ labels: [Int]) -> [[Int]] {
        let classes = (labels.max() ?? -1) + 1
        var rows = Array(repeating: [Int](), count: classes)
        for (i, l) in labels.enumerated() { rows[l].append(i) }
        return rows
    }

    static func shuffle(_ a: [Int], _ rng: inout SeededRandom) -> [Int] {
        var a = a
        guard a.count > 1 else { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return a
    }
}
