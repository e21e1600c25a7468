import Foundation
import Reporting

/// Chosen features of a saved fit, read back from its report folder (`loupe snmf features`):
/// the largest neurons from `snmf.json`, the top tokens in context from `tokens.csv` (store
/// rows) and what the feature promotes and suppresses from `vocabulary.csv` (fits made with
/// `--model` on `mlp.hook_post`); a file that is not there leaves its part empty.
public struct SNMFFeatureSheet: Codable, Sendable {
    public struct Neuron: Codable, Sendable { public var neuron: Int; public var weight: Float }
    public struct Token: Codable, Sendable { public var code: Double; public var token: String; public var context: String }
    public struct Feature: Codable, Sendable {
        public var feature: Int
        public var neurons: [Neuron]
        public var tokens: [Token]
        public var promotes: [String]
        public var suppresses: [String]
    }

    public var source: String
    public var hook: String?
    public var rank: Int
    public var features: [Feature]

    /// Reads `folder` (or the folder of a `snmf.json` path) for `selection` (nil: every
    /// feature), keeping `neurons` neurons, `tokens` top tokens and `words` vocabulary
    /// entries per feature.
    /// - Throws: ``SNMFError`` for an unreadable `snmf.json` or a feature out of range.
    public static func read(_ path: String, selection: [Int]? = nil, neurons: Int = 8, tokens: Int = 5,
                            words: Int = 8) throws -> SNMFFeatureSheet {
        let folder = path.hasSuffix(".json") ? URL(fileURLWithPath: path).deletingLastPathComponent() : URL(fileURLWithPath: path)
        let filePath = path.hasSuffix(".json") ? path : folder.appendingPathComponent("snmf.json").path
        let file = try SNMFFile.load(path: filePath)
        let chosen = selection ?? Array(file.features.indices)
        if let bad = chosen.first(where: { !file.features.indices.contains($0) }) {
            throw SNMFError.invalidSetting("\(filePath) has \(file.features.count) features (0..<\(file.features.count)), not \(bad)")
        }
        func table(_ name: String) -> [[String]] {
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return [] }
            return Array(CSVRecords.parse(text).dropFirst())
        }
        let tokenRows = table("tokens.csv"), vocabulary = table("vocabulary.csv")
        let features = chosen.map { f -> Feature in
            let z = file.features[f]
            let top = z.indices.sorted { abs(z[$0]) != abs(z[$1]) ? abs(z[$0]) > abs(z[$1]) : $0 < $1 }.prefix(neurons).filter { z[$0] != 0 }
            // tokens.csv: feature,rank,code,prompt,position,token_id,token,context
            let own = tokenRows.filter { $0.count == 8 && Int($0[0]) == f }.prefix(tokens)
            // vocabulary.csv: feature,effect,rank,token_id,token,logit
            func effect(_ name: String) -> [String] {
                vocabulary.filter { $0.count == 6 && Int($0[0]) == f && $0[1] == name }.prefix(words).map { $0[4].isEmpty ? "#\($0[3])" : $0[4] }
            }
            return Feature(feature: f, neurons: top.map { Neuron(neuron: $0, weight: z[$0]) },
                           tokens: own.map { Token(code: Double($0[2]) ?? .nan, token: $0[6].isEmpty ? "#\($0[5])" : $0[6],
                                                   context: $0[7]) },
                           promotes: effect("promotes"), suppresses: effect("suppresses"))
        }
        return SNMFFeatureSheet(source: file.source, hook: file.hook, rank: file.features.count, features: features)
    }
}
