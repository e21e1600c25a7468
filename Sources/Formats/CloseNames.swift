/// Finds names similar to a missing one, for "did you mean" hints in errors.
enum CloseNames {
    /// Up to `limit` of `candidates` closest to `name` by edit distance (within a third of
    /// the name's length), or sharing its last two dot-separated components.
    static func find(_ name: String, in candidates: [String], limit: Int = 5) -> [String] {
        let target = Array(name.utf8)
        let maxDistance = max(2, target.count / 3)
        let tail = name.split(separator: ".").suffix(2).joined(separator: ".")
        var scored: [(Int, String)] = []
        for c in candidates {
            let d = distance(target, Array(c.utf8), cap: maxDistance + 1)
            if d <= maxDistance {
                scored.append((d, c))
            } else if !tail.isEmpty, tail.contains("."), c.hasSuffix(tail) {
                scored.append((maxDistance + 1, c))
            }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(limit).map(\.1)
    }

    /// Levenshtein distance, giving up (returning `cap`) once it must exceed `cap`.
    static func distance(_ a: [UInt8], _ b: [UInt8], cap: Int) -> Int {
        if abs(a.count - b.count) >= cap { return cap }
        if a.isEmpty || b.isEmpty { return min(cap, max(a.count, b.count)) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMin = min(rowMin, current[j])
            }
            if rowMin >= cap { return cap }
            swap(&previous, &current)
        }
        return min(previous[b.count], cap)
    }
}
