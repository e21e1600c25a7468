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
            throw ModelError.badMetadata(file: file, key: key, reason: "is \(v), expected a non-negative integer")
        }
        return i
    }
    func optionalInt(_ key: String) -> Int? { values[key]?.int }
    func double(_ key: String) -> Double? { values[key]?.double }
    func string(_ key: String) -> String? { values[key]?.string }
    func bool(_ key: String) -> Bool? { values[key]?.bool }

    /// RoPE settings: transformers 5 writes `rope_parameters`, earlier versions `rope_scaling`.
    var ropeParameters: [String: JSONValue]? {
        values["rope_parameters"]?.object ?? values["rope_scaling"]?.object
    }
}
