import Foundation
import Formats
import Linalg
import Models

/// Small random models built in code, for tests that need a forward pass but not a file.
public enum TinyModels {
    /// A Llama-shaped config: 2 layers, width 32, 4 heads over 2 key/value heads.
    public static func llamaConfig(layers: Int = 2, vocab: Int = 50, context: Int = 64) -> TransformerConfig {
        TransformerConfig(architecture: "llama", name: "tiny-llama", vocabSize: vocab, dModel: 32,
                          nLayers: layers, nHeads: 4, nKVHeads: 2, headDim: 8, dMLP: 48,
                          contextLength: context, normKind: .rmsNorm, normEps: 1e-5, mlpKind: .swiGLU,
                          positionKind: .rotary, ropeTheta: 10_000, ropeScaling: nil,
                          tiedEmbeddings: true, attentionBias: false)
    }

    /// A GPT-2-shaped config: 2 layers, width 32, 4 heads, learned positions.
    public static func gpt2Config(layers: Int = 2, vocab: Int = 50, context: Int = 64) -> TransformerConfig {
        TransformerConfig(architecture: "gpt2", name: "tiny-gpt2", vocabSize: vocab, dModel: 32,
                          nLayers: layers, nHeads: 4, nKVHeads: 4, headDim: 8, dMLP: 64,
                          contextLength: context, normKind: .layerNorm, normEps: 1e-5, mlpKind: .geluTanh,
                          positionKind: .learned, ropeTheta: 0, ropeScaling: nil,
                          tiedEmbeddings: true, attentionBias: true)
    }

    /// Random weights (seeded) for `config`.
    public static func model(_ c: TransformerConfig, seed: UInt64 = 7) throws -> Transformer {
        var rng = SeededRandom(seed: seed)
        func t(_ shape: [Int], scale: Float = 0.3, mean: Float = 0) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in mean + scale * rng.nextGaussian() })
        }
        let qw = c.nHeads * c.headDim, kvw = c.nKVHeads * c.headDim, d = c.dModel
        let bias = c.attentionBias, ln = c.normKind == .layerNorm
        let layers = (0..<c.nLayers).map { _ in
            LayerWeights(
                attnNorm: t([d], scale: 0.1, mean: 1), attnNormBias: ln ? t([d], scale: 0.1) : nil,
                wq: WeightMatrix(t([qw, d])), wk: WeightMatrix(t([kvw, d])), wv: WeightMatrix(t([kvw, d])),
                wo: WeightMatrix(t([d, qw])),
                bq: bias ? t([qw], scale: 0.1) : nil, bk: bias ? t([kvw], scale: 0.1) : nil,
                bv: bias ? t([kvw], scale: 0.1) : nil, bo: bias ? t([d], scale: 0.1) : nil,
                mlpNorm: t([d], scale: 0.1, mean: 1), mlpNormBias: ln ? t([d], scale: 0.1) : nil,
                wGate: c.mlpKind == .swiGLU ? WeightMatrix(t([c.dMLP, d])) : nil,
                wUp: WeightMatrix(t([c.dMLP, d])), bUp: bias ? t([c.dMLP], scale: 0.1) : nil,
                wDown: WeightMatrix(t([d, c.dMLP])), bDown: bias ? t([d], scale: 0.1) : nil)
        }
        let embed = WeightMatrix(t([c.vocabSize, d], scale: 1))
        let weights = TransformerWeights(
            tokenEmbedding: embed, positionEmbedding: c.positionKind == .learned ? t([c.contextLength, d]) : nil,
            layers: layers, finalNorm: t([d], scale: 0.1, mean: 1), finalNormBias: ln ? t([d], scale: 0.1) : nil,
            unembed: embed)
        return try Transformer(config: c, weights: weights)
    }
}

/// Test fixtures and the real model's location.
public enum TestFiles {
    /// `Tests/Fixtures` in the source tree.
    public static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The default model (`$LOUPE_MODEL` or the setup cache), or nil when absent.
    public static var realModelPath: String? {
        let p = ModelLoader.defaultModelPath
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// Whether the real model is on this machine (tests that need it are skipped otherwise).
    public static var hasRealModel: Bool { realModelPath != nil }

    /// Reads a raw little-endian float32 file.
    public static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// Maximum of |a - b| over all elements.
    public static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxAbsDiff of \(a.count) and \(b.count) elements")
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// ‖a - b‖ / ‖b‖.
    public static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "relativeError of \(a.count) and \(b.count) elements")
        let num = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let den = b.reduce(0.0) { $0 + Double($1 * $1) }
        return Float((num / max(den, 1e-30)).squareRoot())
    }
}
