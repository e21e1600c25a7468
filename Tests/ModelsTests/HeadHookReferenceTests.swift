import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Every per-head attention hook (`hook_q`/`hook_k`/`hook_v` before RoPE, `hook_rot_q`/`hook_rot_k`
/// after it, `hook_pattern`, `hook_z`) against `transformers` on the same weights
/// (fixtures from scripts/fixtures/models/make_head_hooks.py).
@Suite struct HeadHookReferenceTests {
    struct FileRef: Decodable { let file: String; let shape: [Int] }
    struct Entry: Decodable { let ids: [Int]; let files: [String: FileRef] }
    struct Index: Decodable { let models: [String: Entry] }

    static let root = TestFiles.fixtures.appendingPathComponent("models")

    static func index() throws -> Index {
        try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("heads.json")))
    }

    /// The hook point a fixture key (`"L/name"`) names, by its TransformerLens name.
    static func point(_ key: String, in config: TransformerConfig) throws -> HookPoint {
        let parts = key.split(separator: "/")
        return try config.hookPoint(named: "blocks.\(parts[0]).attn.hook_\(parts[1])")
    }

    /// Captures every fixture's hook in one pass and returns the worst relative error per key.
    static func compare(_ model: Transformer, entry: Entry, folder: String) throws -> [(String, [Int], [Int], Float)] {
        let cache = ActivationCache()
        var hooks = HookSet()
        let points = try entry.files.keys.sorted().map { ($0, try point($0, in: model.config)) }
        hooks.capture(points.map(\.1), into: cache)
        _ = try model.forward([entry.ids], hooks: hooks, logits: .none)
        return try points.map { key, point in
            let ref = entry.files[key]!
            let want = try TestFiles.floats(root.appendingPathComponent(folder).appendingPathComponent(ref.file))
            let got = try #require(cache.tensor(point), "\(point) not captured")
            return (key, got.shape, ref.shape, TestFiles.relativeError(got.scalars, want))
        }
    }

    @Test(arguments: ["tiny-gpt2", "tiny-llama", "tiny-qwen2"])
    func everyHeadHookMatchesTransformers(name: String) throws {
        let entry = try #require(try Self.index().models[name])
        let model = try ModelLoader.load(path: Self.root.appendingPathComponent(name).path)
        let rotary = name != "tiny-gpt2"
        // Both layers, every per-head hook; rotated ones only where RoPE exists.
        #expect(entry.files.count == (rotary ? 14 : 10))
        for (key, got, want, err) in try Self.compare(model.transformer, entry: entry, folder: name) {
            #expect(got == want, "\(name) \(key): shape \(got) vs \(want)")
            #expect(err < 1e-5, "\(name) \(key): relative error \(err)")
        }
        // Before RoPE and after it really differ (past position 0).
        if rotary {
            let q = try TestFiles.floats(Self.root.appendingPathComponent("\(name)/heads-L1-q.f32"))
            let r = try TestFiles.floats(Self.root.appendingPathComponent("\(name)/heads-L1-rot-q.f32"))
            #expect(TestFiles.relativeError(q, r) > 0.1)
        }
    }

    @Test(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
    func defaultModelQKVZMatchTransformers() throws {
        let entry = try #require(try Self.index().models["smollm2"])
        let model = try RealModel.shared()
        #expect(entry.files.count == 8)
        for (key, got, want, err) in try Self.compare(model.transformer, entry: entry, folder: "smollm2") {
            #expect(got == want, "\(key): shape \(got) vs \(want)")
            #expect(err < 1e-3, "\(key): relative error \(err)")
        }
    }

    @Test func rotaryHooksExistOnlyInRotaryModels() throws {
        let llama = try ModelLoader.load(path: Self.root.appendingPathComponent("tiny-llama").path).config
        #expect(llama.hookPoints.contains(.rotQ(1)) && llama.hookPoints.contains(.rotK(0)))
        #expect(llama.shape(of: .rotK(0), positions: 5) == [5, 2, 16])
        #expect(try llama.hookPoint(named: "blocks.1.attn.hook_rot_q") == .rotQ(1))
        let gpt2 = try ModelLoader.load(path: Self.root.appendingPathComponent("tiny-gpt2").path).config
        #expect(!gpt2.hookPoints.contains(.rotQ(0)))
        #expect(throws: ModelError.self) { try gpt2.hookPoint(named: "blocks.0.attn.hook_rot_k") }
        #expect(HookPoint.q(3) < HookPoint.rotQ(3) && HookPoint.rotK(3) < HookPoint.pattern(3))
    }
}
