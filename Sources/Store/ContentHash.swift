import Foundation

/// A fast, non-cryptographic 64-bit content hash: FNV-1a's xor-multiply step applied to
/// 8-byte little-endian words (then the trailing bytes one by one), finished with the
/// SplitMix64 avalanche. It tells model files and tokenizers apart; it is not meant to resist
/// someone crafting a collision. The whole 98 MB default model hashes in well under a second.
public struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325
    private var length: UInt64 = 0
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    public init() {}

    /// Mixes in `bytes`. Chunks other than the last should be a multiple of 8 bytes long
    /// for the result not to depend on how the input was split (the reading helpers ensure it).
    public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var h = state
        let words = bytes.count / 8
        for i in 0..<words {
            h = (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* Self.prime
        }
        for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* Self.prime }
        state = h
        length &+= UInt64(bytes.count)
    }

    /// Mixes in a string's UTF-8 bytes followed by a 0 separator.
    public mutating func combine(_ string: String) {
        var s = string
        s.withUTF8 { combine(UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { combine($0) }
    }

    /// Mixes in an integer (8 bytes, little-endian).
    public mutating func combine(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { combine($0) }
    }

    /// The hash of everything combined so far (and of its length), as 16 hex digits.
    public var hex: String {
        var z = state ^ length &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        let digits = String(z, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Mixes in the whole contents of the file at `path`, read in 8 MB chunks.
    /// - Throws: ``StoreError/notFound(path:what:)`` when the file cannot be opened.
    public mutating func combine(fileAt path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.notFound(path: path, what: "readable file")
        }
        defer { try? handle.close() }
        while true {
            let chunk = handle.readData(ofLength: 8 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { combine($0) }
        }
    }
}
