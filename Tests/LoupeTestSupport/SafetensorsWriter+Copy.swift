import Formats

extension SafetensorsWriter {
    /// Rewrites the single-file checkpoint at `source` to `destination` as F32, leaving out
    /// the tensor `dropping` (to make a checkpoint with a missing weight).
    public static func copy(from source: String, to destination: String, dropping: String) throws {
        let checkpoint = try SafetensorsCheckpoint(path: source)
        let entries = try checkpoint.tensorNames.filter { $0 != dropping }.map { name in
            let t = try checkpoint.tensor(name)
            return Entry(name: name, dtype: "F32", shape: t.shape, data: f32(t.scalars))
        }
        try writeBytes(bytes(entries), to: destination)
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        guard let f = fopen(path, "wb") else { throw FormatError.io(file: path, reason: "cannot create") }
        defer { fclose(f) }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
