import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Models
import Testing

/// Hand-computed (Double) norms and MLPs that the `ln1`/`ln2.hook_normalized` and
/// `mlp.hook_in` points are checked against.
enum HandNorm {
    /// RMSNorm `x / sqrt(mean x² + eps)` or LayerNorm `(x - mean) / sqrt(var + eps)` of each
    /// `[rows, d]` row, before any weight.
    static func normalized(_ x: [Float], width d: Int, layerNorm: Bool, eps: Float) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / d) {
            let row = (0..<d).map { Double(x[r * d + $0]) }
            let mean = layerNorm ? row.reduce(0, +) / Double(d) : 0
            let ms = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            for j in 0..<d { out[r * d + j] = (row[j] - mean) / (ms + Double(eps)).squareRoot() }
        }
        return out
    }

    /// `v · w (+ b)` per row.
    static func affine(_ v: [Double], weight: Tensor, bias: Tensor?) -> [Double] {
        let d = weight.count
        return v.indices.map { i in v[i] * Double(weight.scalars[i % d]) + Double(bias?.scalars[i % d] ?? 0) }
    }

    /// `W x (+ b)` for `W` `[out, in]` on one row.
    static func linear(_ x: [Double], _ w: Tensor, _ b: Tensor?) -> [Double] {
        let (n, k) = (w.shape[0], w.shape[1])
        return (0..<n).map { i in (0..<k).reduce(Double(b?.scalars[i] ?? 0)) { $0 + Double(w.scalars[i * k + $1]) * x[$1] } }
    }

    /// The MLP of `layer` on one input row (SwiGLU: down(silu(gate x) · up x); GELU-tanh: down(gelu(up x + b))).
    static func mlp(_ x: [Double], _ lw: LayerWeights, swiGLU: Bool) -> [Double] {
        let hidden: [Double]
        if swiGLU {
            let g = linear(x, lw.wGate!.dense(), nil), u = linear(x, lw.wUp.dense(), lw.bUp)
            hidden = zip(g, u).map { $0 / (1 + exp(-$0)) * $1 }
        } else {
            hidden = linear(x, lw.wUp.dense(), lw.bUp).map { v in 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) }
        }
        return linear(hidden, lw.wDown.dense(), lw.bDown)
    }

    static func maxRelative(_ a: [Float], _ b: [Double]) -> Double {
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs(Double($0) - $1) }.max()! / scale
    }
}

@Suite struct NormalizedHookTests {
    /// On both tiny models (RMSNorm SwiGLU Llama, LayerNorm-with-bias GPT-2): ln1/ln2
    /// normalized equal the hand norm of resid_pre/resid_mid, mlp.hook_in that times the
    /// weight plus bias, and hook_mlp_out the hand MLP of mlp.hook_in.
    @Test(arguments: ["llama", "gpt2"]) func valuesMatchTheHandNormAndMLP(_ family: String) throws {
        let config = family == "llama" ? TinyModels.llamaConfig() : TinyModels.gpt2Config()
        let model = try TinyModels.model(config)
        let cache = ActivationCache()
        var hooks = HookSet()
        let l = 1, d = config.dModel, ln = config.normKind == .layerNorm
        hooks.capture([.residPre(l), .ln1Normalized(l), .residMid(l), .ln2Normalized(l), .mlpIn(l), .mlpOut(l)], into: cache)
        _ = try model.forward([[3, 1, 4, 1, 5, 9]], hooks: hooks)
        let lw = model.weights.layers[l]
        let n1 = HandNorm.normalized(cache.tensor(.residPre(l))!.scalars, width: d, layerNorm: ln, eps: config.normEps)
        #expect(HandNorm.maxRelative(cache.tensor(.ln1Normalized(l))!.scalars, n1) < 1e-5)
        let n2 = HandNorm.normalized(cache.tensor(.residMid(l))!.scalars, width: d, layerNorm: ln, eps: config.normEps)
        #expect(HandNorm.maxRelative(cache.tensor(.ln2Normalized(l))!.scalars, n2) < 1e-5)
        let input = HandNorm.affine(n2, weight: lw.mlpNorm, bias: lw.mlpNormBias)
        let mlpIn = cache.tensor(.mlpIn(l))!
        #expect(mlpIn.shape == [6, d])
        #expect(HandNorm.maxRelative(mlpIn.scalars, input) < 1e-5)
        let out = (0..<6).flatMap { r in HandNorm.mlp(mlpIn.row(r).map(Double.init), lw, swiGLU: config.mlpKind == .swiGLU) }
        #expect(HandNorm.maxRelative(cache.tensor(.mlpOut(l))!.scalars, out) < 1e-4)
    }

    /// Modifying the new points changes what flows on: zeroed mlp.hook_in gives the down
    /// projection's bias (Llama: zero) at hook_mlp_out; ln2.hook_normalized set to ones gives
    /// mlp.hook_in equal to the norm's weight (+ bias); ln1.hook_normalized zeroed changes the logits.
    @Test(arguments: ["llama", "gpt2"]) func modifiedValuesFlowDownstream(_ family: String) throws {
        let config = family == "llama" ? TinyModels.llamaConfig() : TinyModels.gpt2Config()
        let model = try TinyModels.model(config)
        let d = config.dModel, lw = model.weights.layers[0], tokens = [[2, 7, 1, 8]]
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.zeroAblate(.mlpIn(0))
        hooks.capture([.mlpOut(0)], into: cache)
        _ = try model.forward(tokens, hooks: hooks)
        let bias = lw.bDown?.scalars ?? [Float](repeating: 0, count: d)
        let expected: [Float] = family == "llama" ? [Float](repeating: 0, count: 4 * d) : (0..<4).flatMap { _ in bias }
        // GELU(b_up) through the down projection is what a zero input gives GPT-2; Llama's SwiGLU of 0 is 0.
        if family == "llama" {
            #expect(cache.tensor(.mlpOut(0))!.scalars == expected)
        } else {
            let row = HandNorm.mlp([Double](repeating: 0, count: d), lw, swiGLU: false)
            #expect(HandNorm.maxRelative(cache.tensor(.mlpOut(0))!.scalars, (0..<4).flatMap { _ in row }) < 1e-5)
        }
        let ones = ActivationCache()
        var set = HookSet()
        set.modify(.ln2Normalized(0)) { act, _ in act = Tensor(shape: act.shape, scalars: [Float](repeating: 1, count: act.count)) }
        set.capture([.mlpIn(0)], into: ones)
        _ = try model.forward(tokens, hooks: set)
        let weightRow = (0..<d).map { lw.mlpNorm.scalars[$0] + (lw.mlpNormBias?.scalars[$0] ?? 0) }
        #expect(ones.tensor(.mlpIn(0))!.scalars == (0..<4).flatMap { _ in weightRow })
        let clean = try model.forward(tokens, logits: .all).logits[0]
        var zero1 = HookSet()
        zero1.zeroAblate(.ln1Normalized(1), positions: .positions([3]))
        let changed = try model.forward(tokens, hooks: zero1, logits: .all).logits[0]
        #expect(changed.row(3) != clean.row(3) && changed.row(2) == clean.row(2))
    }

    /// Observing the new points (the unfused path) gives the same logits as the fused kernel
    /// (both runs observe resid_pre of every layer, so both run every block on all rows).
    @Test(arguments: ["llama", "gpt2"]) func observingKeepsTheLogits(_ family: String) throws {
        let config = family == "llama" ? TinyModels.llamaConfig() : TinyModels.gpt2Config()
        let model = try TinyModels.model(config)
        let tokens = [[5, 4, 3, 2, 1]]
        var plain = HookSet()
        for l in 0..<2 { plain.observe(.residPre(l)) { _, _ in } }
        var hooks = plain
        for l in 0..<2 { for p in [HookPoint.ln1Normalized(l), .ln2Normalized(l), .mlpIn(l)] { hooks.observe(p) { _, _ in } } }
        #expect(try model.forward(tokens, hooks: hooks, logits: .all).logits[0] == model.forward(tokens, hooks: plain, logits: .all).logits[0])
        #expect(HookPoint(name: "blocks.3.ln2.hook_normalized") == .ln2Normalized(3))
        #expect(HookPoint(name: "blocks.0.mlp.hook_in") == .mlpIn(0))
        #expect(HookPoint.residMid(2) < .ln2Normalized(2) && .ln2Normalized(2) < .mlpIn(2) && .mlpIn(2) < .mlpPre(2))
        #expect(HookPoint.residPre(2) < .ln1Normalized(2) && .ln1Normalized(2) < .q(2))
    }
}

@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct NormalizedHookRealModelTests {
    /// Layer 8 of SmolLM2: resid_mid RMS-normalized by hand times the GGUF's `blk.8.ffn_norm`
    /// weight (read from the file, not the loaded model) equals mlp.hook_in, and mlp.hook_in
    /// through the MLP weights by hand equals hook_mlp_out.
    @Test func layer8MatchesTheHandComputation() throws {
        let m = try RealModel.shared()
        let c = m.transformer.config, d = c.dModel, l = 8
        let ids = try m.tokenizer.encode("The Eiffel Tower is in the city of")
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture([.residMid(l), .ln2Normalized(l), .mlpIn(l), .mlpOut(l)], into: cache)
        try m.transformer.forward([ids], hooks: hooks, through: l)
        let gguf = try GGUFFile(path: TestFiles.realModelPath!)
        let weight = try gguf.tensor("blk.\(l).ffn_norm.weight")
        #expect(weight.shape == [d])
        let normalized = HandNorm.normalized(cache.tensor(.residMid(l))!.scalars, width: d, layerNorm: false, eps: c.normEps)
        #expect(HandNorm.maxRelative(cache.tensor(.ln2Normalized(l))!.scalars, normalized) < 1e-5)
        let input = HandNorm.affine(normalized, weight: weight, bias: nil)
        let mlpIn = cache.tensor(.mlpIn(l))!
        #expect(HandNorm.maxRelative(mlpIn.scalars, input) < 1e-5)
        let lw = m.transformer.weights.layers[l]
        let rows = [1, ids.count / 2, ids.count - 1]
        let out = rows.flatMap { r in HandNorm.mlp(mlpIn.row(r).map(Double.init), lw, swiGLU: true) }
        let got = rows.flatMap { cache.tensor(.mlpOut(l))!.row($0) }
        #expect(HandNorm.maxRelative(got, out) < 1e-4)
    }
}
