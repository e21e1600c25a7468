import Foundation
import GRDB
import Linalg
import LoupeTestSupport
import Models
import Store

/// A fresh store path in a temporary folder.
func temporaryStorePath() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-store-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("store.db").path
}

/// A model identity for a tiny in-memory model (hashes made up, distinct per `tag`).
func tinyIdentity(_ config: TransformerConfig, file: String = "00000000000000aa", tokenizer: String = "00000000000000bb") -> ModelIdentity {
    ModelIdentity(name: config.name, architecture: config.architecture, path: "<memory>", fileHash: file,
                  fileSize: 1, tokenizerHash: tokenizer, config: config)
}

/// Seeded random prompts of 3...12 tokens with a label each, for a vocabulary of `vocab`.
func tinyPrompts(_ n: Int, vocab: Int, seed: UInt64 = 3) -> [(record: PromptRecord, tokens: [Int])] {
    var rng = SeededRandom(seed: seed)
    return (0..<n).map { i in
        let length = 3 + Int(rng.next() % 10)
        let tokens = (0..<length).map { _ in Int(rng.next() % UInt64(vocab)) }
        return (PromptRecord(text: "prompt \(i)", metadata: ["label": .number(Double(i % 2))], line: i + 1), tokens)
    }
}

/// A tiny model, a store with its dataset, and a capture of `hooks` at `positions`.
struct TinyCapture {
    let model: Transformer
    let store: ActivationStore
    let prompts: [StoredPrompt]
    let capture: CaptureRecord
    let kept: [[Int]]

    init(hooks: [HookPoint], positions: CapturePositions = .all, dtype: ActivationDType = .f32, count: Int = 12,
         path: String? = nil, layers: Int = 2) throws {
        let config = TinyModels.llamaConfig(layers: layers)
        model = try TinyModels.model(config)
        store = try ActivationStore(path: try path ?? temporaryStorePath(), create: true)
        let modelID = try store.register(tinyIdentity(config))
        let data = try store.dataset(name: "tiny", source: "memory", encoding: "{}", tokenizerHash: "bb",
                                     prompts: tinyPrompts(count, vocab: config.vocabSize))
        prompts = data.prompts
        capture = try store.capture(model: modelID, dataset: data.id, hooks: hooks.map(\.name),
                                    positions: positions.spec, dtype: dtype)
        kept = try prompts.map { p in
            switch positions {
            case .all: return Array(0..<p.tokens.count)
            case .last: return [p.tokens.count - 1]
            case .index(let i): return [i < 0 ? p.tokens.count + i : i]
            case .subject: throw StoreError.badPosition(prompt: "tiny", reason: "no tokenizer")
            }
        }
    }
}

/// Runs raw SQL on an SQLite file (to build foreign or damaged stores for tests).
enum SQLiteScript {
    static func run(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: sql) }
    }

    static func int(_ path: String, _ sql: String) throws -> Int? {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: sql) }
    }
}
