#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory for as long as this object lives.
///
/// Tensor data is read straight from the mapping: nothing is copied until a tensor is
/// dequantized. The mapping is unmapped in `deinit`, so never let a pointer from
/// ``withBytes(_:)`` escape the closure.
// @unchecked Sendable: the mapping is created once in `init`, is never written (PROT_READ),
// and is unmapped only in `deinit`, when no other reference exists. Concurrent reads of
// immutable memory are safe.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// Size of the file in bytes.
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps the file at `path`.
    /// - Throws: ``FormatError/io(file:reason:)`` when the file cannot be opened, read or mapped.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FormatError.io(file: path, reason: Self.errnoText("cannot open")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError.io(file: path, reason: Self.errnoText("cannot stat")) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError.io(file: path, reason: "is not a regular file")
        }
        count = Int(info.st_size)
        if count == 0 {
            base = nil  // mmap of zero bytes fails; an empty file is an empty buffer.
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw FormatError.io(file: path, reason: Self.errnoText("cannot map \(count) bytes"))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with the file's bytes. The buffer is valid only inside `body`.
    @inlinable
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(buffer)
    }

    @usableFromInline
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    private static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }
}
