import Foundation

/// A compiled ICU regular expression used as one pre-tokenizer split step.
///
/// Patterns are written in the Oniguruma / llama.cpp dialect found in tokenizer.json files
/// and llama-vocab.cpp. The one difference that matters for them is `\s`: Oniguruma (and
/// Rust's `char::is_whitespace`) count U+000B and U+0085 as white space, ICU does not
/// (ICU's `\s` is `[\t\n\f\r\p{Z}]`). ``translate(_:)`` rewrites `\s` / `\S` so that
/// ICU matches the same set.
///
/// Patterns can come from model files (a tokenizer.json `Split`), so matching is bounded: a
/// split that runs longer than ``timeBudget(length:)`` stops with
/// ``TokenizerError/patternTooSlow(pattern:length:seconds:)`` instead of running for hours on
/// a pattern like `(a+)+$`. ICU calls back during the match (at each new start position and
/// every 10,000 backtracking steps), which is where the clock is read. The budget is time, not
/// steps, because ICU's callbacks through `NSRegularExpression` do not say which kind they are
/// (a scan that finds nothing calls back once per character). The clock is the calling
/// thread's CPU time, not the wall clock: on a loaded machine a thread waits for a core, and a
/// wall-clock budget stopped `\p{N}` on a 6,000-character document there. The budget is
/// far above what the byte-level regexes of GPT-2, Llama 3 and Qwen2 take, so they never come near it.
final class RegexPattern: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe for matching.
    /// The pattern as given (Oniguruma dialect).
    let source: String
    let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        do {
            regex = try NSRegularExpression(pattern: Self.translate(source), options: [])
        } catch {
            throw TokenizerError.badPattern(pattern: source, detail: "\(error)")
        }
    }

    /// CPU seconds one split of `length` UTF-16 units may take: 1 s plus 5 µs per unit.
    static func timeBudget(length: Int) -> Double { 1 + Double(length) * 5e-6 }

    /// The calling thread's CPU time in nanoseconds (what it ran, not what it waited).
    static func threadCPUNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// The range of each match of the regex in `text` (whose UTF-16 length is `length`), in order.
    /// - Throws: ``TokenizerError/patternTooSlow(pattern:length:seconds:)`` when matching takes
    ///   more CPU time than ``timeBudget(length:)``.
    func matches(in text: String, length: Int) throws -> [NSRange] {
        let start = Self.threadCPUNanoseconds()
        let limit = start + UInt64(Self.timeBudget(length: length) * 1e9)
        var calls = 0, overrun = false
        var found: [NSRange] = []
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(location: 0, length: length)) {
            match, _, stop in
            guard let match else {
                // A callback per scanned character is common: read the clock every 64th.
                calls += 1
                if calls & 63 == 0, Self.threadCPUNanoseconds() > limit { overrun = true; stop.pointee = true }
                return
            }
            found.append(match.range)
        }
        if overrun {
            let seconds = Double(Self.threadCPUNanoseconds() - start) / 1e9
            throw TokenizerError.patternTooSlow(pattern: source, length: length, seconds: seconds)
        }
        return found
    }

    private static let spaceClassBody = #"\s\x{0B}\x{85}"#

    /// Rewrites `\s` and `\S` to Unicode White_Space (adds U+000B and U+0085), inside and
    /// outside character classes. Other escapes pass through unchanged.
    static func translate(_ pattern: String) -> String {
        var out = ""
        var inClass = false
        var chars = pattern.makeIterator()
        while let c = chars.next() {
            if c == "\\" {
                guard let e = chars.next() else { out.append(c); break }
                switch (e, inClass) {
                case ("s", false): out += "[\(spaceClassBody)]"
                case ("s", true): out += spaceClassBody
                case ("S", false): out += "[^\(spaceClassBody)]"
                default: out.append(c); out.append(e)
                }
                continue
            }
            if c == "[" && !inClass { inClass = true } else if c == "]" && inClass { inClass = false }
            out.append(c)
        }
        return out
    }
}
