import Formats

/// Typed lookups in GGUF metadata whose errors name the file and the key.
struct GGUFMetadataReader {
    let gguf: GGUFFile
    init(_ gguf: GGUFFile) { self.gguf = gguf }

    func int(_ key: String) throws -> Int {
        guard let v = gguf.metadata[key] else { throw ModelError.missingMetadata(file: gguf.path, key: key) }
        guard let i = v.int, i > 0, i < 1 << 31 else {
            throw ModelError.badMetadata(file: gguf.path, key: key, reason: "is \(v), expected a positive integer below 2^31")
        }
        return i
    }
    func optionalInt(_ key: String) throws -> Int? {
        gguf.metadata[key] == nil ? nil : try int(key)
    }
    func double(_ key: String) throws -> Double {
        guard let v = gguf.metadata[key] else { throw ModelError.missingMetadata(file: gguf.path, key: key) }
        guard let d = v.double, d.isFinite else {
            throw ModelError.badMetadata(file: gguf.path, key: key, reason: "is \(v), expected a finite number")
        }
        return d
    }
    func optionalDouble(_ key: String) throws -> Double? {
        gguf.metadata[key] == nil ? nil : try double(key)
    }
    func optionalString(_ key: String) throws -> String? {
        guard let v = gguf.metadata[key] else { return nil }
        guard let s = v.string else { throw ModelError.badMetadata(file: gguf.path, key: key, reason: "is not a string") }
        return s
    }
    func array(_ key: String) throws -> GGUFArray {
        guard let v = gguf.metadata[key] else { throw ModelError.missingMetadata(file: gguf.path, key: key) }
        guard let a = v.array else { throw ModelError.badMetadata(file: gguf.path, key: key, reason: "is not an array") }
        return a
    }
}
