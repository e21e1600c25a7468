import Foundation

/// A Hugging Face `config.json`, with typed lookups whose errors name the file and key.
struct HFConfig {
    let file: String
    let values: [String: JSONValue]

    init(path: String) throws {
        file = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelError.unrecognizedModelPath(path: path)
        }
        guard let object = (try? JSONDecoder().decode(JSONValue.self, from: data))?.object else {
            throw ModelError.badMetadata(file: path, key: "(file)", reason: "is not a JSON object")
        }
        values = object
    }

    func int(_ key: String) throws -> Int {
        guard let v = values[key] else { throw ModelError.missingMetadata(file: file, key: key) }
        guard let i = v.int, i >= 0 else {
            throw ModelError.badMetadata(file: file, key: key, reason: "is \(jsonText(v)), expected a non-negative integer")
        }
        return i
    }
    // Optional keys: absent or null gives nil (the family's default); present with the wrong
    // JSON type is an error, never a silent fallback to the default.
    func optionalInt(_ key: String) throws -> Int? { try typed(key, "an integer") { $0.int } }
    func double(_ key: String) throws -> Double? { try typed(key, "a number") { $0.double } }
    func string(_ key: String) throws -> String? { try typed(key, "a string") { $0.string } }
    func bool(_ key: String) throws -> Bool? { try typed(key, "true or false") { $0.bool } }

    func typed<T>(_ key: String, _ what: String, _ get: (JSONValue) -> T?) throws -> T? {
        guard let v = values[key], v != .null else { return nil }
        guard let t = get(v) else { throw ModelError.badMetadata(file: file, key: key, reason: "is \(jsonText(v)), expected \(what)") }
        return t
    }

    /// RoPE settings: transformers 5 writes `rope_parameters`, earlier versions `rope_scaling`.
    var ropeParameters: [String: JSONValue]? {
        values["rope_parameters"]?.object ?? values["rope_scaling"]?.object
    }
}
