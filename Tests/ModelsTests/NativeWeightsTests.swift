import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// `--weights native` against `--weights f32` on the same file: weights read in place must
/// give the float32 model's logits up to summation order, and the same greedy tokens.
@Suite struct NativeWeightsTests {
    let config = TinyModels.llamaConfig()

    @Test(arguments: TestQuantizer.types)
    func tinyQuantizedGGUFRunsTheSameBothWays(_ type: GGMLType) throws {
        let model = try TinyModels.model(config)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("tiny-\(type).gguf", TinyGGUF.bytes(model, weightType: type))
        let f32 = try ModelLoader.load(path: path, weights: .f32)
        let native = try ModelLoader.load(path: path, weights: .native)
        // Rows of 32 stay in the file's format; the down projection (rows of 48) is dense.
        let layer = native.transformer.weights.layers[0]
        #expect(layer.wq.storageType == type && layer.wUp.storageType == type)
        #expect(native.transformer.weights.tokenEmbedding.storageType == type)
        #expect(layer.wDown.storageType == .f32)
        #expect(f32.transformer.weights.layers[0].wq.storageType == .f32)
        // The same dequantized weights (q/k rows unpermuted the same way).
        #expect(layer.wq.dense() == f32.transformer.weights.layers[0].wq.dense())
        #expect(layer.wk.dense() == f32.transformer.weights.layers[0].wk.dense())
        // Prompts of 1, 2 (row-dot kernels) and 9 rows (tiles), batched and alone.
        let prompts = [[3], [1, 4], [1, 5, 9, 2, 6, 5, 3, 5, 8]]
        for p in prompts {
            let a = try f32.transformer.forward([p], logits: .all).logits[0]
            let b = try native.transformer.forward([p], logits: .all).logits[0]
            let range = a.scalars.max()! - a.scalars.min()!
            #expect(TestFiles.maxAbsDiff(a.scalars, b.scalars) <= 1e-4 * range, "\(type) prompt \(p)")
        }
        let a = try f32.transformer.generate(prompt: [1, 2, 3], maxNewTokens: 20)
        let b = try native.transformer.generate(prompt: [1, 2, 3], maxNewTokens: 20)
        #expect(a.tokens == b.tokens, "\(type)")
    }

    /// `LOUPE_WEIGHTS` values: the two formats in any case, unset or empty for native, and a
    /// warning naming the value for anything else.
    @Test func environmentValues() {
        #expect(WeightFormat.parse(nil) == (.native, nil) && WeightFormat.parse("") == (.native, nil))
        #expect(WeightFormat.parse("F32") == (.f32, nil) && WeightFormat.parse("native") == (.native, nil))
        let unknown = WeightFormat.parse("q4")
        #expect(unknown.format == .native && unknown.warning?.contains("LOUPE_WEIGHTS=q4") == true)
    }

    @Test func corruptTensorSizeIsRefusedInBothModes() throws {
        let model = try TinyModels.model(config)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bytes = TinyGGUF.bytes(model, weightType: .q8_0)
        let cut = dir.write("cut.gguf", Array(bytes.prefix(bytes.count - 40)))
        for mode in [WeightFormat.native, .f32] {
            do { _ = try ModelLoader.load(path: cut, weights: mode); Issue.record("\(mode) should fail") } catch {
                #expect("\(error)".contains("cut.gguf"), "\(error)")
            }
        }
    }
}

/// The default model with its Q4_1/Q8_0 weights read in place against the float32 path:
/// next-token logits on the reference prompts within 1e-3, greedy generations identical.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct NativeWeightsRealModelTests {
    struct Prompt: Decodable { let index: Int; let ids: [Int] }
    struct Generation: Decodable { let prompt_index: Int; let prompt_ids: [Int]; let generated_ids: [Int] }
    struct Reference: Decodable { let prompts: [Prompt]; let generations: [Generation] }

    static let reference: Reference? = try? JSONDecoder().decode(Reference.self, from: Data(contentsOf:
        TestFiles.fixtures.appendingPathComponent("models/smollm2/reference.json")))
    static let native: Result<LoadedModel, any Error>? = TestFiles.realModelPath.map { path in
        Result { try ModelLoader.load(path: path, weights: .native) }
    }

    @Test func nextTokenLogitsMatchTheFloat32Path() throws {
        let f32 = try RealModel.shared(), native = try #require(Self.native).get()
        #expect(native.transformer.weights.layers[0].wq.storageType == .q4_1)
        let prompts = try #require(Self.reference).prompts.map(\.ids)
        #expect(prompts.count >= 8)
        let a = try f32.transformer.forward(prompts).logits
        let b = try native.transformer.forward(prompts).logits
        for (i, (x, y)) in zip(a, b).enumerated() {
            #expect(TestFiles.maxAbsDiff(x.scalars, y.scalars) <= 1e-3, "prompt \(i)")
        }
        // One prompt alone: its last row is unembedded by the row-dot kernel.
        let single = try native.transformer.forward([prompts[0]]).logits[0]
        #expect(TestFiles.maxAbsDiff(single.scalars, a[0].scalars) <= 1e-3)
    }

    @Test func greedyGenerationsAreTokenIdentical() throws {
        let f32 = try RealModel.shared(), native = try #require(Self.native).get()
        for g in try #require(Self.reference).generations {
            let a = try f32.transformer.generate(prompt: g.prompt_ids, maxNewTokens: g.generated_ids.count)
            let b = try native.transformer.generate(prompt: g.prompt_ids, maxNewTokens: g.generated_ids.count)
            #expect(a.tokens == b.tokens, "prompt \(g.prompt_index)")
        }
    }
}
