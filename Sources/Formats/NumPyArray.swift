import Foundation
import Linalg

/// NumPy `.npy` files (format versions 1–3): read float32/float64/float16 little-endian
/// C-order arrays as Float32 tensors, and write Float32 ones, so Python users and Loupe can
/// exchange arrays (noise for causal tracing, exported activations).
public enum NumPyArray {
    /// Reads the array in `path` as a Float32 tensor.
    /// - Throws: ``FormatError`` naming the file and what is wrong (magic, header, dtype,
    ///   Fortran order, shape vs. data size).
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        return try file.withBytes { bytes in
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
            let headerBytes = Array(try r.readBytes(headerLength))
            let header = String(decoding: headerBytes, as: UTF8.self)
            let at = FormatError.Location(file: path, object: "header", offset: r.offset - headerLength)
            guard let descr = field("descr", in: header), let shapeText = field("shape", in: header) else {
                throw FormatError.invalidValue(at, reason: "header lacks 'descr' or 'shape': \(header)")
            }
            if field("fortran_order", in: header) == "True" {
                throw FormatError.invalidValue(at, reason: "Fortran-order arrays are not supported; save with np.ascontiguousarray")
            }
            let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
                .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
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
            let available = bytes.count - r.offset
            guard !overflow, count <= available / width, count * width == available else {
                throw FormatError.invalidValue(at, reason: "shape \(shape) of \(dtype) needs \(overflow ? "too many" : String(count * width)) bytes, the file holds \(available)")
            }
            let base = r.offset
            let values: [Float] = (0..<count).map { i in
                let o = base + i * width
                switch width {
                case 4: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                case 8: return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
                default: return Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))))
                }
            }
            return Tensor(shape: shape, scalars: values)
        }
    }

    /// The bytes of a version-1 `.npy` file holding `tensor` as little-endian float32.
    public static func bytes(_ tensor: Tensor) -> [UInt8] {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out += $0 }
        out += Array(header.utf8)
        out.reserveCapacity(out.count + tensor.count * 4)
        for v in tensor.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// Writes `tensor` to `path` as a float32 `.npy` file.
    public static func write(_ tensor: Tensor, to path: String) throws {
        do { try Data(bytes(tensor)).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.io(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The text of `'key': value` in a NumPy header dict.
    private static func field(_ key: String, in header: String) -> String? {
        guard let k = header.range(of: "'\(key)':") else { return nil }
        var rest = header[k.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return String(rest).trimmingCharacters(in: .whitespaces)
    }
}
