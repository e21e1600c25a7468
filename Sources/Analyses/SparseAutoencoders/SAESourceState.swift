/// Where a training source stands between two batches, enough to continue exactly: named
/// integers (pass, positions, counters, generator states as bit patterns) and named Float
/// arrays (buffered rows, thresholds), saved in a training checkpoint (``SAECheckpoint``).
public struct SAESourceState: Sendable, Equatable {
    public var integers: [String: Int]
    public var arrays: [String: [Float]]

    public init(integers: [String: Int] = [:], arrays: [String: [Float]] = [:]) {
        self.integers = integers
        self.arrays = arrays
    }

    /// Integer `key`.
    /// - Throws: ``SAEError/checkpoint(_:)`` when it is missing.
    public func integer(_ key: String) throws -> Int {
        guard let v = integers[key] else { throw SAEError.checkpoint("the checkpoint's source state lacks '\(key)'") }
        return v
    }

    /// Array `key` (empty when missing: empty arrays are not stored).
    public func array(_ key: String) -> [Float] { arrays[key] ?? [] }

    /// Sets the `skipped.<reason>` integers from a source's counts.
    mutating func setSkipped(_ skipped: [String: Int], prefix: String = "skipped.") {
        for (reason, n) in skipped { integers[prefix + reason] = n }
    }

    /// The `skipped.<reason>` integers as counts.
    func skipped(prefix: String = "skipped.") -> [String: Int] {
        var out: [String: Int] = [:]
        for (k, v) in integers where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
    }

    /// A 64-bit FNV-1a fingerprint of Float bit patterns (a matrix source's identity), in hex.
    static func fingerprint(_ values: [Float]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        return String(h, radix: 16)
    }

    /// The same fingerprint of token windows (their lengths and ids).
    static func fingerprint(_ windows: [[Int]]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for w in windows {
            h = (h ^ UInt64(w.count)) &* 0x0000_0100_0000_01B3
            for t in w { h = (h ^ UInt64(bitPattern: Int64(t))) &* 0x0000_0100_0000_01B3 }
        }
        return String(h, radix: 16)
    }
}
