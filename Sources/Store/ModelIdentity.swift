import Foundation
import Models
import Tokenizers

/// Which model made a store's activations: what a capture records and what a resumed or
/// later capture is checked against.
public struct ModelIdentity: Sendable, Equatable, Codable {
    public var name: String
    public var architecture: String
    /// The file or folder the model was loaded from, as given (informational only).
    public var path: String
    /// ``ContentHash`` over the model file's bytes (for a folder: every file but the
    /// tokenizer's, by name, in name order).
    public var fileHash: String
    /// Bytes hashed.
    public var fileSize: Int64
    /// ``ContentHash`` over the tokenizer's vocabulary, token types, merges, pre-tokenizer
    /// name and special-token settings.
    public var tokenizerHash: String
    public var config: TransformerConfig

    /// Memberwise initializer.
    public init(name: String, architecture: String, path: String, fileHash: String, fileSize: Int64,
                tokenizerHash: String, config: TransformerConfig) {
        self.name = name
        self.architecture = architecture
        self.path = path
        self.fileHash = fileHash
        self.fileSize = fileSize
        self.tokenizerHash = tokenizerHash
        self.config = config
    }

    /// The identity of a loaded model, hashing its file(s) and tokenizer.
    /// - Throws: ``StoreError/notFound(path:what:)`` if the model's files cannot be read.
    public init(of model: LoadedModel) throws {
        var hash = ContentHash()
        var size: Int64 = 0
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: model.path, isDirectory: &isDirectory)
        let files: [String]
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: model.path).sorted()
            files = names.filter { !$0.hasPrefix("tokenizer") && !$0.hasPrefix(".") }.map { model.path + "/" + $0 }
        } else {
            files = [model.path]
        }
        for file in files {
            hash.combine((file as NSString).lastPathComponent)
            try hash.combine(fileAt: file)
            size += Int64((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
        self.init(name: model.config.name, architecture: model.config.architecture, path: model.path,
                  fileHash: hash.hex, fileSize: size, tokenizerHash: ModelIdentity.hash(model.tokenizer),
                  config: model.config)
    }

    /// The tokenizer's content hash (see ``tokenizerHash``).
    public static func hash(_ tokenizer: Tokenizer) -> String {
        let spec = tokenizer.spec
        var h = ContentHash()
        h.combine(spec.tokens.count)
        for t in spec.tokens { h.combine(t) }
        for t in spec.tokenTypes { h.combine(t.rawValue) }
        h.combine(spec.merges.count)
        for m in spec.merges { h.combine(m) }
        h.combine(spec.preTokenizer.name)
        for id in [spec.bosID, spec.eosID, spec.padID, spec.unknownID] { h.combine(id ?? -1) }
        h.combine(spec.addBOS ? 1 : 0)
        h.combine(spec.addEOS ? 1 : 0)
        return h.hex
    }
}
