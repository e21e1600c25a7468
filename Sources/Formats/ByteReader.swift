/// A bounds-checked little-endian cursor over a byte buffer.
///
/// Every read goes through ``need(_:)``, the one place that compares a request against
/// the bytes remaining, so a truncated or lying file becomes a ``FormatError/truncated``
/// naming the file, the object being read (``context``) and the byte offset.
public struct ByteReader {
    /// The bytes being read.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the next read from the start of `bytes`.
    public private(set) var offset: Int
    /// File name used in errors.
    public let file: String
    /// What is being read, for errors (e.g. `key 'general.name'`). Set by the parser.
    public var context: String

    /// A reader at `offset` in `bytes`; errors name `file`.
    public init(_ bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0, context: String = "header") {
        self.bytes = bytes
        self.file = file
        self.offset = offset
        self.context = context
    }

    /// Bytes left after the cursor.
    public var remaining: Int { bytes.count - offset }

    /// The location of the cursor, for errors.
    public var location: FormatError.Location {
        FormatError.Location(file: file, object: context, offset: offset)
    }

    /// Throws unless `n` more bytes can be read. The single bounds check of this type.
    @inline(__always)
    public func need(_ n: Int) throws(FormatError) {
        guard n >= 0, n <= remaining else {
            throw .truncated(location, needed: n, remaining: remaining, fileSize: bytes.count)
        }
    }

    /// Reads a little-endian integer.
    @inline(__always)
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(FormatError) -> T {
        try need(MemoryLayout<T>.size)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// Reads a little-endian IEEE float.
    public mutating func readFloat() throws(FormatError) -> Float {
        Float(bitPattern: try read(UInt32.self))
    }

    /// Reads a little-endian IEEE double.
    public mutating func readDouble() throws(FormatError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }

    /// Reads `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        try need(count)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// Reads a GGUF string: a `UInt64` byte length then that many bytes of UTF-8.
    /// Invalid UTF-8 is an error (``FormatError/invalidUTF8(_:)``), not replaced; a length
    /// longer than the rest of the file is ``FormatError/truncated(_:needed:remaining:fileSize:)``.
    public mutating func readString() throws(FormatError) -> String {
        let start = location
        let length = try read(UInt64.self)
        // Checked before converting to Int, so an absurd length fails here without allocating.
        guard length <= UInt64(remaining) else {
            throw .truncated(location, needed: length > UInt64(Int.max) ? Int.max : Int(length),
                             remaining: remaining, fileSize: bytes.count)
        }
        let raw = try readBytes(Int(length))
        guard let s = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(start) }
        return s
    }

    /// Moves the cursor to `newOffset` (at most the end of the buffer).
    public mutating func seek(to newOffset: Int) throws(FormatError) {
        guard newOffset >= 0 else { throw .truncated(location, needed: newOffset, remaining: remaining, fileSize: bytes.count) }
        if newOffset > offset { try need(newOffset - offset) }
        offset = newOffset
    }
}
