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
            let header = try NumPyHeader.parse(bytes, fileSize: bytes.count, path: path)
            return Tensor(shape: header.shape, scalars: NumPyHeader.decode(bytes, from: header.dataOffset, count: header.count, width: header.width))
        }
    }

    /// The bytes of a version-1 `.npy` file holding `tensor` as little-endian float32.
    public static func bytes(_ tensor: Tensor) -> [UInt8] {
        var out = header(shape: tensor.shape)
        out.reserveCapacity(out.count + tensor.count * 4)
        for v in tensor.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// The header of a version-1 `.npy` file of little-endian float32 values of `shape` (the
    /// values follow it, C order).
    public static func header(shape: [Int]) -> [UInt8] {
        let shape = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out += $0 }
        return out + Array(header.utf8)
    }

    /// Writes `tensor` to `path` as a float32 `.npy` file.
    public static func write(_ tensor: Tensor, to path: String) throws {
        do { try Data(bytes(tensor)).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.io(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
