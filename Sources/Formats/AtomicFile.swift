import Foundation

/// Writes a file so that a crash leaves the old file or the new one, never a mix: the bytes go
/// to a temporary file in the same folder, which is synced to disk (`fsync`) and renamed over
/// the destination; the folder is synced too so the rename itself is durable.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically and durably.
    /// - Throws: ``FormatError/io(file:reason:)`` naming the step that failed.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FormatError.io(file: temporary, reason: "cannot create: \(String(cString: strerror(errno)))") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(temporary)
            throw FormatError.io(file: temporary, reason: "cannot write and sync: \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FormatError.io(file: path, reason: "cannot rename \(temporary) over it: \(reason)")
        }
        let dir = open(folder, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}
