import Linalg
import Models

/// A transcoder feature active at one position of the prompt: a node of the graph.
public struct ActiveFeature: Sendable, Equatable {
    public let layer: Int
    public let position: Int
    /// The latent's index in its layer's transcoder.
    public let feature: Int
    public let activation: Float
}

/// The local replacement model of one prompt (Ameisen et al. 2025; circuit-tracer's
/// `setup_attribution`): one real forward pass records what the graph freezes and reads.
///
/// Per layer it keeps the attention patterns, the RMSNorm scales `1/rms(x)` of both norms,
/// the MLP input (`mlp.hook_in`) and the real MLP output; the final norm's scales and the real
/// logits. Each layer's transcoder encodes the MLP input into active features; the error node
/// is the real MLP output minus the transcoder's output (decoder, `b_dec` and `W_skip` term).
/// As circuit-tracer does, position 0 (the BOS token, whose activations are outliers) has no
/// feature or error nodes; its MLP output minus the skip term is kept as a constant, so the
/// frozen model still reproduces the real pass there.
public struct LocalReplacementModel: Sendable {
    public let model: Transformer
    public let transcoders: TranscoderSet
    public let tokens: [Int]
    /// Token embeddings `[n, d]` (what the pass adds at `hook_embed`).
    public let embeddings: [Float]
    /// Per layer, `1/rms` of the attention's and the MLP's input rows, `[n]`.
    public let attentionScales: [[Float]], mlpScales: [[Float]]
    /// `1/rms` of the final residual rows, `[n]`.
    public let finalScales: [Float]
    /// Per layer, attention probabilities `[heads, n, n]`.
    public let patterns: [[Float]]
    /// Per layer, the MLP input `[n, d]` and the real MLP output `[n, d]`.
    public let mlpInputs: [[Float]], mlpOutputs: [[Float]]
    /// Per layer, real MLP output minus the transcoder's output `[n, d]` (row 0 zero).
    public let errors: [[Float]]
    /// Per layer, the constant that stands for position 0's MLP output besides its skip term `[d]`.
    public let positionZeroConstants: [[Float]]
    /// Active features in node order: by layer, then position, then latent index.
    public let features: [ActiveFeature]
    /// The real model's logits at every position `[n, vocab]`.
    public let logits: [Float]

    public var positions: Int { tokens.count }
    public var config: TransformerConfig { model.config }

    /// Runs `tokens` through `model` once and builds the replacement model.
    /// - Throws: ``GraphError`` for a model the attribution cannot handle, a transcoder set
    ///   that does not fit it, or a prompt that is empty or longer than the context.
    public init(model: Transformer, transcoders: TranscoderSet, tokens: [Int]) throws {
        let c = model.config
        guard c.normKind == .rmsNorm else {
            throw GraphError.unsupportedModel("attribution graphs need RMSNorm models (Llama family); \(c.name) uses LayerNorm")
        }
        guard c.pass.finalLogitSoftcap == nil else {
            throw GraphError.unsupportedModel("attribution graphs do not handle \(c.name)'s soft-capped logits")
        }
        try transcoders.check(against: c)
        guard tokens.count >= 2 else { throw GraphError.badPrompt("the prompt has \(tokens.count) token(s); a graph needs at least 2 (position 0 has no nodes)") }
        guard tokens.count <= c.contextLength else {
            throw GraphError.badPrompt("the prompt has \(tokens.count) tokens, more than the model's context of \(c.contextLength)")
        }
        let n = tokens.count, d = c.dModel, layers = c.nLayers
        let cache = ActivationCache()
        var hooks = HookSet()
        var points: [HookPoint] = [.embed]
        for l in 0..<layers { points += [.residPre(l), .pattern(l), .residMid(l), .mlpIn(l), .mlpOut(l)] }
        points.append(.residPost(layers - 1))
        hooks.capture(points, into: cache)
        let out = try model.forward([tokens], hooks: hooks, logits: .all)
        func get(_ p: HookPoint) throws -> [Float] {
            guard let t = cache.tensor(p, sequence: 0) else { throw GraphError.unsupportedModel("the forward pass did not reach \(p.name)") }
            return t.scalars
        }
        func scales(_ x: [Float]) -> [Float] {
            (0..<n).map { r in
                var ss: Float = 0
                for j in 0..<d { ss += x[r * d + j] * x[r * d + j] }
                return 1 / (ss / Float(d) + c.normEps).squareRoot()
            }
        }
        self.model = model
        self.transcoders = transcoders
        self.tokens = tokens
        embeddings = try get(.embed)
        attentionScales = try (0..<layers).map { scales(try get(.residPre($0))) }
        mlpScales = try (0..<layers).map { scales(try get(.residMid($0))) }
        finalScales = scales(try get(.residPost(layers - 1)))
        patterns = try (0..<layers).map { try get(.pattern($0)) }
        mlpInputs = try (0..<layers).map { try get(.mlpIn($0)) }
        mlpOutputs = try (0..<layers).map { try get(.mlpOut($0)) }
        logits = out.logits[0].scalars
        var features: [ActiveFeature] = [], errors: [[Float]] = [], constants: [[Float]] = []
        for l in 0..<layers {
            let tc = transcoders.transcoders[l], x = Tensor(shape: [n, d], scalars: mlpInputs[l])
            let f = try tc.encode(x), m = tc.latents
            for p in 1..<n { for i in 0..<m where f.scalars[p * m + i] != 0 { features.append(ActiveFeature(layer: l, position: p, feature: i, activation: f.scalars[p * m + i])) } }
            let predicted = try tc.output(x).scalars
            var e = zip(mlpOutputs[l], predicted).map { $0 - $1 }
            for j in 0..<d { e[j] = 0 }
            errors.append(e)
            constants.append(Self.positionZeroConstant(tc, mlpIn: Array(mlpInputs[l][0..<d]), mlpOut: Array(mlpOutputs[l][0..<d])))
        }
        self.features = features
        self.errors = errors
        positionZeroConstants = constants
    }

    /// Position 0's MLP output minus its skip term (`x · W_skipᵀ`), the part the graph holds constant.
    static func positionZeroConstant(_ tc: any SparseAutoencoder, mlpIn x: [Float], mlpOut y: [Float]) -> [Float] {
        guard tc.parameters.hasSkip else { return y }
        let skip = Self.skip(tc, x)
        return zip(y, skip).map { $0 - $1 }
    }

    /// `x · W_skipᵀ` of one row.
    static func skip(_ tc: any SparseAutoencoder, _ x: [Float]) -> [Float] {
        let d = tc.width
        var out = [Float](repeating: 0, count: d)
        tc.parameters.wSkip.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { BLAS.gemv(n: d, k: d, w: w.baseAddress!, x: xp.baseAddress!, y: $0.baseAddress!) } }
        }
        return out
    }

    /// Feature `f`'s decoder row times its activation `[d]`: what the node adds to the residual stream.
    public func scaledDecoder(_ f: ActiveFeature) -> [Float] {
        let p = transcoders.transcoders[f.layer].parameters, d = p.width
        return (0..<d).map { p.wDec[f.feature * d + $0] * f.activation }
    }

    /// Feature `f`'s encoder column `[d]`: its pre-activation is the MLP input dotted with it (plus `b_enc`).
    public func encoderVector(_ f: ActiveFeature) -> [Float] {
        let p = transcoders.transcoders[f.layer].parameters, m = p.latents
        return (0..<p.width).map { p.wEnc[$0 * m + f.feature] }
    }
}
