import Formats
import Linalg

/// The forward pass of the frozen replacement model: the real pass's attention patterns and
/// norm scales held fixed, each MLP output rebuilt from its transcoder's active features (as
/// constants), `b_dec`, the skip term and the error node. With every source at scale 1 it
/// reproduces the real pass; scaling a source (a feature's activation, an error node, a token
/// embedding) and reading the targets again is an intervention whose effect the graph's edges
/// predict exactly (the model is linear in the sources).
public struct FrozenForward: Sendable {
    public let replacement: LocalReplacementModel

    public init(_ replacement: LocalReplacementModel) { self.replacement = replacement }

    /// What one pass produced.
    public struct Result: Sendable {
        /// Per layer, the MLP input `[n, d]` (what the transcoders read).
        public let mlpInputs: [[Float]]
        /// The final norm's output `[n, d]` (what the unembedding reads).
        public let finalNormed: [Float]
        /// Logits at every position `[n, vocab]`.
        public let logits: [Float]
    }

    /// Runs the frozen model without one source node of `layout` (a feature, error or token
    /// node; its contribution scaled to 0): what an edge from that node is checked against.
    /// A logit node is not a source: the run is then the unedited one.
    public func run(removing source: Int, layout: GraphLayout) -> Result {
        switch layout.kind(of: source) {
        case .feature(let f):
            var scales = [Float](repeating: 1, count: layout.features); scales[f] = 0
            return run(featureScales: scales)
        case .error(let l, let p):
            var scales = [Float](repeating: 1, count: layout.layers * layout.positions); scales[l * layout.positions + p] = 0
            return run(errorScales: scales)
        case .token(let p):
            var scales = [Float](repeating: 1, count: layout.positions); scales[p] = 0
            return run(tokenScales: scales)
        case .logit:
            return run()
        }
    }

    /// Runs the frozen model with each source's contribution multiplied by its scale
    /// (`featureScales` per feature node, `errorScales` per error node in layout order,
    /// `tokenScales` per position; nil: all 1).
    public func run(featureScales: [Float]? = nil, errorScales: [Float]? = nil, tokenScales: [Float]? = nil) -> Result {
        let r = replacement, c = r.config, w = r.model.weights
        let n = r.positions, d = c.dModel, heads = c.nHeads, hd = c.headDim, kvw = c.nKVHeads * hd, qw = heads * hd
        var x = r.embeddings
        if let tokenScales { for p in 0..<n { for j in 0..<d { x[p * d + j] *= tokenScales[p] } } }
        var inputs: [[Float]] = []
        var featureIndex = 0
        for l in 0..<c.nLayers {
            let lw = w.layers[l]
            let h1 = Self.normed(x, weight: lw.attnNorm, scales: r.attentionScales[l], d: d)
            let v = Self.linear(h1, lw.wv, lw.bv, rows: n)
            var z = [Float](repeating: 0, count: n * qw)
            r.patterns[l].withUnsafeBufferPointer { a in
                for h in 0..<heads {
                    let g = h / c.groupSize
                    for p in 0..<n { for q in 0...p {
                        let weight = a[h * n * n + p * n + q]
                        for j in 0..<hd { z[p * qw + h * hd + j] += weight * v[q * kvw + g * hd + j] }
                    } }
                }
            }
            let attn = Self.linear(z, lw.wo, lw.bo, rows: n)
            for i in 0..<(n * d) { x[i] += attn[i] }
            let h2 = Self.normed(x, weight: lw.mlpNorm, scales: r.mlpScales[l], d: d)
            inputs.append(h2)
            let tc = r.transcoders.transcoders[l], p0 = tc.parameters
            var mlp = [Float](repeating: 0, count: n * d)
            if p0.hasSkip { mlp = Self.linear(h2, .float32(Tensor(shape: [d, d], scalars: p0.wSkip)), nil, rows: n) }
            for j in 0..<d { mlp[j] += r.positionZeroConstants[l][j] }
            for p in 1..<n {
                let errorScale = errorScales?[r.layoutErrorIndex(layer: l, position: p)] ?? 1
                for j in 0..<d { mlp[p * d + j] += p0.bDec[j] + errorScale * r.errors[l][p * d + j] }
            }
            while featureIndex < r.features.count && r.features[featureIndex].layer == l {
                let f = r.features[featureIndex], a = f.activation * (featureScales?[featureIndex] ?? 1)
                for j in 0..<d { mlp[f.position * d + j] += a * p0.wDec[f.feature * d + j] }
                featureIndex += 1
            }
            for i in 0..<(n * d) { x[i] += mlp[i] }
        }
        let hf = Self.normed(x, weight: w.finalNorm, scales: r.finalScales, d: d)
        let logits = Self.linear(hf, w.unembed, nil, rows: n)
        return Result(mlpInputs: inputs, finalNormed: hf, logits: logits)
    }

    /// `x ⊙ scale[p] ⊙ weight` per row.
    static func normed(_ x: [Float], weight: Tensor, scales: [Float], d: Int) -> [Float] {
        var out = x
        weight.withUnsafeBufferPointer { w in
            for p in 0..<scales.count { for j in 0..<d { out[p * d + j] = x[p * d + j] * scales[p] * w[j] } }
        }
        return out
    }

    /// `x · Wᵀ + b` for `rows` rows.
    static func linear(_ x: [Float], _ w: WeightMatrix, _ b: Tensor?, rows: Int) -> [Float] {
        let nOut = w.rows
        var out = [Float](repeating: 0, count: rows * nOut)
        x.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { w.multiply(a.baseAddress!, rows: rows, into: $0.baseAddress!) }
        }
        if let b { for r in 0..<rows { for j in 0..<nOut { out[r * nOut + j] += b.scalars[j] } } }
        return out
    }
}

extension LocalReplacementModel {
    /// The index of error node (layer, position) among the error nodes.
    func layoutErrorIndex(layer: Int, position: Int) -> Int { layer * positions + position }
}
