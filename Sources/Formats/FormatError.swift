import Foundation

/// Why a GGUF or safetensors file could not be read.
///
/// Every case carries enough to write a one-line ``description`` naming the file, the
/// object or field, the byte offset and the bound that was violated, e.g.
/// `model.gguf: tensor 'blk.3.attn_q.weight' at byte 1234567: data offset 4096 + 73728 bytes
/// runs past the end of the file (98362432 bytes)`.
public enum FormatError: Error, Sendable, Equatable {
    /// Where in a file an error was found.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        /// The file's path.
        public var file: String
        /// The object or field being read, e.g. `key 'general.alignment'`.
        public var object: String
        /// Byte offset from the start of the file, when known.
        public var offset: Int?

        public init(file: String, object: String, offset: Int? = nil) {
            self.file = file
            self.object = object
            self.offset = offset
        }

        /// `file: object at byte N`.
        public var description: String {
            offset.map { "\(file): \(object) at byte \($0)" } ?? "\(file): \(object)"
        }
    }

    /// The file could not be opened, read or mapped.
    case io(file: String, reason: String)
    /// A read of `needed` bytes found only `remaining` before the end of the file.
    case truncated(Location, needed: Int, remaining: Int, fileSize: Int)
    /// The file does not start with the format's magic; `found` holds its first bytes.
    case badMagic(Location, expected: String, found: [UInt8])
    /// A GGUF version other than 2 or 3.
    case unsupportedVersion(Location, version: UInt32)
    /// A count or length (`what`) larger than the rest of the file could possibly hold.
    case countTooLarge(Location, what: String, count: UInt64, limit: UInt64)
    /// A string that is not valid UTF-8.
    case invalidUTF8(Location)
    /// A metadata key or tensor name that appears twice.
    case duplicateName(Location, name: String)
    /// A field whose value breaks a rule of the format (`reason` says which).
    case invalidValue(Location, reason: String)
    /// A GGUF tensor whose ggml type id is not known.
    case unknownTensorType(Location, typeID: UInt32)
    /// A tensor whose bytes `start..<start+byteCount` (absolute file offsets) do not lie within
    /// the file of `limit` bytes.
    case dataOutOfBounds(Location, start: UInt64, byteCount: UInt64, limit: Int)
    /// A tensor type or dtype that parses but cannot be converted to Float32.
    case unsupportedTensorType(Location, type: String)
    /// A file a checkpoint refers to (a shard) that does not exist.
    case missingFile(Location, path: String)
    /// No tensor called `name`; `closeMatches` lists similar names in the file.
    case missingTensor(file: String, name: String, closeMatches: [String])

    /// A missing-tensor error for `name`, listing up to five `candidates` close to it.
    public static func missingTensor(file: String, name: String, among candidates: [String]) -> FormatError {
        .missingTensor(file: file, name: name, closeMatches: CloseNames.find(name, in: candidates))
    }

    /// The file the error is about.
    public var file: String {
        switch self {
        case .io(let file, _), .missingTensor(let file, _, _): return file
        case .truncated(let l, _, _, _), .badMagic(let l, _, _), .unsupportedVersion(let l, _),
             .countTooLarge(let l, _, _, _), .invalidUTF8(let l), .duplicateName(let l, _),
             .invalidValue(let l, _), .unknownTensorType(let l, _), .dataOutOfBounds(let l, _, _, _),
             .unsupportedTensorType(let l, _), .missingFile(let l, _):
            return l.file
        }
    }
}

extension FormatError: CustomStringConvertible, LocalizedError {
    /// One line: file, object, byte offset, and what was wrong.
    public var description: String {
        switch self {
        case .io(let file, let reason):
            return "\(file): \(reason)"
        case .truncated(let l, let needed, let remaining, let size):
            return "\(l): needs \(needed) bytes but only \(remaining) remain (file is \(size) bytes; truncated?)"
        case .badMagic(let l, let expected, let found):
            return "\(l): expected magic \(expected), found \(Self.show(found))"
        case .unsupportedVersion(let l, let version):
            let hint = version == 1 ? " (GGUF v1 is obsolete; re-convert the model)"
                : (version & 0xFFFF == 0 && version != 0 ? " (byte-swapped: big-endian file?)" : "")
            return "\(l): unsupported GGUF version \(version); supported versions are 2 and 3\(hint)"
        case .countTooLarge(let l, let what, let count, let limit):
            return "\(l): \(what) \(count) exceeds \(limit), the most the remaining bytes could hold"
        case .invalidUTF8(let l):
            return "\(l): string is not valid UTF-8"
        case .duplicateName(let l, let name):
            return "\(l): duplicate name '\(name)'"
        case .invalidValue(let l, let reason):
            return "\(l): \(reason)"
        case .unknownTensorType(let l, let id):
            return "\(l): unknown ggml tensor type id \(id)"
        case .dataOutOfBounds(let l, let start, let count, let limit):
            return "\(l): data offset \(start) + \(count) bytes runs past the end of the file (\(limit) bytes)"
        case .unsupportedTensorType(let l, let type):
            return "\(l): unsupported tensor type \(type) (cannot convert to Float32)"
        case .missingFile(let l, let path):
            return "\(l): file '\(path)' does not exist"
        case .missingTensor(let file, let name, let close):
            let hint = close.isEmpty ? "" : "; close matches: " + close.map { "'\($0)'" }.joined(separator: ", ")
            return "\(file): no tensor named '\(name)'\(hint)"
        }
    }

    public var errorDescription: String? { description }

    /// Bytes as printable ASCII in quotes when they are, else hex.
    private static func show(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return "'" + String(decoding: bytes, as: UTF8.self) + "'"
        }
        let hex = bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return bytes.isEmpty ? "no bytes" : "0x" + hex.joined()
    }
}
