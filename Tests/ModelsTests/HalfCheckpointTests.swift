import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Safetensors checkpoints saved in bfloat16 (tiny Llama) and float16 (tiny Qwen2) by
/// transformers: their matrices stay 16-bit in place (`--weights native`, the default), and
/// the logits at every position, through the tile path (many rows) and the row-dot kernels
/// (one row), match transformers' forward pass of the same 16-bit weights (reloaded in
/// float32; fixtures from scripts/fixtures/models/make_half_checkpoints.py), as does
/// `--weights f32`.
@Suite struct HalfCheckpointTests {
    struct FileRef: Decodable { let file: String; let shape: [Int] }
    struct Sequence: Decodable { let index: Int; let ids: [Int]; let logits: FileRef; let max_abs_diff_to_float32_checkpoint: Double }
    struct Reference: Decodable { let sequences: [Sequence]; let dtype: String }

    static let cases: [(name: String, type: GGMLType)] = [("tiny-llama-bf16", .bf16), ("tiny-qwen2-f16", .f16)]

    func directory(_ name: String) -> URL { TestFiles.fixtures.appendingPathComponent("models/\(name)") }

    func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory(name).appendingPathComponent("reference.json")))
    }

    /// Every layer matrix, the embedding and the unembedding.
    func matrices(_ model: LoadedModel) -> [(String, WeightMatrix)] {
        let w = model.transformer.weights
        var out: [(String, WeightMatrix)] = [("embedding", w.tokenEmbedding), ("unembedding", w.unembed)]
        for (l, layer) in w.layers.enumerated() {
            let named: [(String, WeightMatrix?)] = [("wq", layer.wq), ("wk", layer.wk), ("wv", layer.wv), ("wo", layer.wo),
                                                    ("gate", layer.wGate), ("up", layer.wUp), ("down", layer.wDown)]
            out += named.compactMap { name, m in m.map { ("layer \(l) \(name)", $0) } }
        }
        return out
    }

    @Test(arguments: [0, 1])
    func matricesStaySixteenBitAndLogitsMatchTransformers(_ which: Int) throws {
        let (name, type) = Self.cases[which]
        let ref = try reference(name)
        let native = try ModelLoader.load(path: directory(name).path, weights: .native)
        let dense = try ModelLoader.load(path: directory(name).path, weights: .f32)
        #expect(native.unusedTensors.isEmpty, "unused: \(native.unusedTensors)")
        for (what, m) in matrices(native) {
            #expect(m.storageType == type, "\(name) \(what): \(m.storageType)")
            #expect(m.storageBytes == 2 * m.count, "\(name) \(what): \(m.storageBytes) bytes for \(m.count) weights")
        }
        #expect(matrices(dense).allSatisfy { $0.1.storageType == .f32 })
        for seq in ref.sequences {
            let want = try TestFiles.floats(directory(name).appendingPathComponent(seq.logits.file))
            // The fixture's weights are the 16-bit ones: the float32 checkpoint's logits differ.
            #expect(seq.max_abs_diff_to_float32_checkpoint > 1e-2)
            for (label, model) in [("native", native), ("f32", dense)] {
                let all = try model.transformer.forward([seq.ids], logits: .all).logits[0]
                let diff = TestFiles.maxAbsDiff(all.scalars, want)
                #expect(diff < 1e-4, "\(name) \(label) sequence \(seq.index): max |Δlogit| \(diff)")
                // One row: the row-dot kernels in every layer and the unembedding.
                let first = try model.transformer.forward([[seq.ids[0]]], logits: .all).logits[0]
                let vocab = first.count
                let firstDiff = TestFiles.maxAbsDiff(first.scalars, Array(want[0..<vocab]))
                #expect(firstDiff < 1e-4, "\(name) \(label) sequence \(seq.index), one row: max |Δlogit| \(firstDiff)")
            }
        }
    }
}
