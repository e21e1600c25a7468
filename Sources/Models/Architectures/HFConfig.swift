import Foundation

/// A JSON value (for Hugging Face `config.json`, whose fields vary by model type).
public indirect enum JSONValue: Sendable, Equatable, Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public var double: Double? { if case .number(let n) = self { n } else { nil } }
    public var int: Int? { double.flatMap { $0 == $0.rounded() && abs($0) < 9e15 ? Int($0) : nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}

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
