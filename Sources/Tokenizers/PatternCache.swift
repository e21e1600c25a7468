import Foundation

/// A process-wide cache of compiled pre-tokenizer regexes, keyed by pattern text.
final class PatternCache: @unchecked Sendable {
    private let lock = NSLock()
    private var compiled: [String: RegexPattern] = [:]

    func get(_ pattern: String) throws -> RegexPattern {
        lock.lock()
        defer { lock.unlock() }
        if let r = compiled[pattern] { return r }
        let r = try RegexPattern(pattern)
        compiled[pattern] = r
        return r
    }
}
