import Foundation

/// The header of a `.npy` file (format versions 1–3): where the data starts, its dtype
/// (float32, float64 or float16, little-endian) and shape, checked against the file's size.
public struct NumPyHeader: Sendable, Equatable {
    /// The array's shape.
    public var shape: [Int]
    /// Bytes per value: 4 (`<f4`), 8 (`<f8`) or 2 (`<f2`).
    public var width: Int
    /// The dtype as the header names it, e.g. `<f4`.
    public var dtype: String
    /// Offset of the first value from the start of the file.
    public var dataOffset: Int
    /// Values in all (the product of ``shape``).
    public var count: Int { shape.reduce(1, *) }

    /// Parses the header at the start of `bytes` (at least the whole header; `fileSize` is the
    /// whole file's size, which must equal the header plus the data exactly).
    /// - Throws: ``FormatError`` naming `path` and what is wrong (magic, version, header,
    ///   dtype, Fortran order, shape vs. data size).
    public static func parse(_ bytes: UnsafeRawBufferPointer, fileSize: Int, path: String) throws -> NumPyHeader {
        var r = ByteReader(bytes, file: path)
        r.context = "magic"
        let magic = Array(try r.readBytes(6))
        guard magic == [0x93] + Array("NUMPY".utf8) else {
            throw FormatError.badMagic(.init(file: path, object: "header", offset: 0), expected: "'\\x93NUMPY'", found: magic)
        }
        r.context = "version"
        let major = try r.read(UInt8.self)
        _ = try r.read(UInt8.self)
        r.context = "header length"
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try r.read(UInt16.self))
        case 2, 3: headerLength = Int(try r.read(UInt32.self))
        default:
            throw FormatError.invalidValue(.init(file: path, object: "version", offset: 6), reason: "unsupported .npy version \(major)")
        }
        r.context = "header"
        let header = String(decoding: try r.readBytes(headerLength), as: UTF8.self)
        let at = FormatError.Location(file: path, object: "header", offset: r.offset - headerLength)
        guard let descr = field("descr", in: header), let shapeText = field("shape", in: header) else {
            throw FormatError.invalidValue(at, reason: "header lacks 'descr' or 'shape': \(header)")
        }
        if field("fortran_order", in: header) == "True" {
            throw FormatError.invalidValue(at, reason: "Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        let parts = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = parts.compactMap { Int($0) }
        guard shape.count == parts.count else { throw FormatError.invalidValue(at, reason: "shape \(shapeText) is not a tuple of integers") }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let width: Int
        switch dtype {
        case "<f4": width = 4
        case "<f8": width = 8
        case "<f2": width = 2
        default:
            throw FormatError.invalidValue(at, reason: "dtype \(dtype) is not supported (use float32, float64 or float16, little-endian)")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (m, o) = acc.0.multipliedReportingOverflow(by: d)
            return (m, acc.1 || o || d < 0)
        }
        let available = fileSize - r.offset
        guard !overflow, count <= available / width, count * width == available else {
            throw FormatError.invalidValue(at, reason: "shape \(shape) of \(dtype) needs \(overflow ? "too many" : String(count * width)) bytes, the file holds \(available)")
        }
        return NumPyHeader(shape: shape, width: width, dtype: dtype, dataOffset: r.offset)
    }

    /// Reads and checks the header of the file at `path` (only the header's bytes are read).
    /// - Throws: ``FormatError`` for a missing or unreadable file, or as ``parse(_:fileSize:path:)``.
    public static func read(path: String) throws -> NumPyHeader {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FormatError.io(file: path, reason: "cannot open for reading")
        }
        defer { try? handle.close() }
        do {
            let size = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            var prefix = try handle.read(upToCount: 12) ?? Data()
            let length: Int
            if prefix.count >= 12, prefix[prefix.startIndex + 6] >= 2 {
                length = 12 + prefix[(prefix.startIndex + 8)..<(prefix.startIndex + 12)].reversed().reduce(0) { $0 << 8 | Int($1) }
            } else if prefix.count >= 10 {
                length = 10 + (Int(prefix[prefix.startIndex + 8]) | Int(prefix[prefix.startIndex + 9]) << 8)
            } else {
                length = prefix.count
            }
            if length > prefix.count, length <= size { prefix += try handle.read(upToCount: length - prefix.count) ?? Data() }
            return try prefix.withUnsafeBytes { try parse($0, fileSize: size, path: path) }
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.io(file: path, reason: "cannot read the header: \(error.localizedDescription)")
        }
    }

    /// The text of `'key': value` in a NumPy header dict.
    static func field(_ key: String, in header: String) -> String? {
        guard let k = header.range(of: "'\(key)':") else { return nil }
        var rest = header[k.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return String(rest).trimmingCharacters(in: .whitespaces)
    }

    /// Float32 values from `count` little-endian values of `width` bytes at `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer, from offset: Int, count: Int, width: Int) -> [Float] {
        (0..<count).map { i in
            let o = offset + i * width
            switch width {
            case 4: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            case 8: return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
            default: return Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))))
            }
        }
    }
}
