import Foundation
import Models

/// Hook point names selected by shell-style globs: `*` (any characters, dots included),
/// `?` (one character) and `[0-5]` (a character class), e.g. `blocks.*.hook_resid_post` or
/// `blocks.1[0-5].mlp.hook_post`. Several patterns are separated by commas.
public enum HookPattern {
    /// The model's hook points that any of `patterns` (comma-separated) matches, in forward order.
    /// - Throws: ``StoreError/unknownHookPattern(pattern:suggestions:)`` for a pattern that
    ///   matches nothing, with the closest names or name patterns.
    public static func resolve(_ patterns: String, config: TransformerConfig) throws -> [HookPoint] {
        let all = config.hookPoints
        var chosen = Set<HookPoint>()
        let parts = patterns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.allSatisfy(\.isEmpty) { throw StoreError.unknownHookPattern(pattern: patterns, suggestions: []) }
        for pattern in parts where !pattern.isEmpty {
            let hits = all.filter { fnmatch(pattern, $0.name, 0) == 0 }
            if hits.isEmpty { throw StoreError.unknownHookPattern(pattern: pattern, suggestions: suggestions(pattern, all)) }
            chosen.formUnion(hits)
        }
        return chosen.sorted()
    }

    /// Up to three names or layer-generic templates (`blocks.*.attn.hook_z`) closest to `pattern`.
    static func suggestions(_ pattern: String, _ points: [HookPoint]) -> [String] {
        var candidates = Set(points.map(\.name))
        for p in points where p.layer != nil {
            candidates.insert(p.name.replacingOccurrences(of: "blocks.\(p.layer!).", with: "blocks.*."))
        }
        let scored = candidates.map { ($0, distance($0, pattern)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        return scored.prefix(3).filter { $0.1 <= max(4, pattern.count / 3) }.map(\.0)
    }

    /// Levenshtein distance over UTF-8 bytes.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var previousDiagonal = row[0]
            row[0] = i
            for j in stride(from: 1, through: y.count, by: 1) {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, previousDiagonal + (x[i - 1] == y[j - 1] ? 0 : 1))
                previousDiagonal = above
            }
        }
        return row[y.count]
    }
}
