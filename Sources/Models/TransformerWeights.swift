import Formats
import Linalg

/// One block's weights. Linear weights are stored `[out, in]` (Hugging Face layout), so a
/// layer is `x · Wᵀ` through sgemm, or in place through ``WeightMatrix`` when they stay in
/// their file's block format (`--weights native`). Optional tensors are nil when the architecture has none.
public struct LayerWeights: Sendable {
    /// Pre-attention norm scale (and shift for LayerNorm), `[dModel]`.
    public var attnNorm: Tensor
    public var attnNormBias: Tensor?
    /// `[nHeads * headDim, dModel]`
    public var wq: WeightMatrix
    /// `[nKVHeads * headDim, dModel]`
    public var wk: WeightMatrix
    /// `[nKVHeads * headDim, dModel]`
    public var wv: WeightMatrix
    /// `[dModel, nHeads * headDim]`
    public var wo: WeightMatrix
    public var bq: Tensor?, bk: Tensor?, bv: Tensor?, bo: Tensor?
    /// Pre-MLP norm, `[dModel]`.
    public var mlpNorm: Tensor
    public var mlpNormBias: Tensor?
    /// Gate projection of a gated MLP, `[dMLP, dModel]` (nil for GPT-2).
    public var wGate: WeightMatrix?
    /// Up projection (GPT-2's `c_fc`), `[dMLP, dModel]`.
    public var wUp: WeightMatrix
    public var bUp: Tensor?
    /// Down projection (GPT-2's MLP `c_proj`), `[dModel, dMLP]`.
    public var wDown: WeightMatrix
    public var bDown: Tensor?
    /// Memberwise initializer.
    public init(
        attnNorm: Tensor,
        attnNormBias: Tensor?,
        wq: WeightMatrix,
        wk: WeightMatrix,
        wv: WeightMatrix,
        wo: WeightMatrix,
        bq: Tensor?,
        bk: Tensor?,
        bv: Tensor?,
        bo: Tensor?,
        mlpNorm: Tensor,
        mlpNormBias: Tensor?,
        wGate: WeightMatrix?,
        wUp: WeightMatrix,
        bUp: Tensor?,
        wDown: WeightMatrix,
        bDown: Tensor?
    ) {
        self.attnNorm = attnNorm
        self.attnNormBias = attnNormBias
        self.wq = wq
        self.wk = wk
        self.wv = wv
        self.wo = wo
        self.bq = bq
        self.bk = bk
        self.bv = bv
        self.bo = bo
        self.mlpNorm = mlpNorm
        self.mlpNormBias = mlpNormBias
        self.wGate = wGate
        self.wUp = wUp
        self.bUp = bUp
        self.wDown = wDown
        self.bDown = bDown
    }

}

/// All weights of a decoder-only transformer: norms and biases as Float32, matrices as
/// ``WeightMatrix`` (dense Float32, or read in place in their GGUF block format).
public struct TransformerWeights: Sendable {
    /// `[vocabSize, dModel]`
    public var tokenEmbedding: WeightMatrix
    /// Learned positions, `[contextLength, dModel]` (GPT-2), else nil.
    public var positionEmbedding: Tensor?
    public var layers: [LayerWeights]
    /// Final norm, `[dModel]`.
    public var finalNorm: Tensor
    public var finalNormBias: Tensor?
    /// Unembedding `[vocabSize, dModel]`; shares storage with `tokenEmbedding` when tied.
    public var unembed: WeightMatrix

    /// Memberwise initializer.
    public init(
        tokenEmbedding: WeightMatrix,
        positionEmbedding: Tensor?,
        layers: [LayerWeights],
        finalNorm: Tensor,
        finalNormBias: Tensor?,
        unembed: WeightMatrix
    ) {
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.finalNormBias = finalNormBias
        self.unembed = unembed
    }

    /// Checks every tensor's shape against `config`; throws naming the first mismatch.
    public func validate(against c: TransformerConfig, file: String) throws {
        func check(_ t: Tensor?, _ shape: [Int], _ name: String) throws {
            guard let t else { return }
            if t.shape != shape {
                throw ModelError.tensorShape(file: file, tensor: name, expected: shape, found: t.shape)
            }
        }
        func check(_ w: WeightMatrix?, _ shape: [Int], _ name: String) throws {
            guard let w else { return }
            if w.shape != shape {
                throw ModelError.tensorShape(file: file, tensor: name, expected: shape, found: w.shape)
            }
        }
        let qw = c.nHeads * c.headDim, kvw = c.nKVHeads * c.headDim
        try check(tokenEmbedding, [c.vocabSize, c.dModel], "token embedding")
        try check(positionEmbedding, [c.contextLength, c.dModel], "position embedding")
        try check(unembed, [c.vocabSize, c.dModel], "unembedding")
        try check(finalNorm, [c.dModel], "final norm")
        try check(finalNormBias, [c.dModel], "final norm bias")
        for (l, w) in layers.enumerated() {
            let p = "layer \(l) "
            try check(w.attnNorm, [c.dModel], p + "attention norm")
            try check(w.attnNormBias, [c.dModel], p + "attention norm bias")
            try check(w.wq, [qw, c.dModel], p + "q projection")
            try check(w.wk, [kvw, c.dModel], p + "k projection")
            try check(w.wv, [kvw, c.dModel], p + "v projection")
            try check(w.wo, [c.dModel, qw], p + "output projection")
            try check(w.bq, [qw], p + "q bias")
            try check(w.bk, [kvw], p + "k bias")
            try check(w.bv, [kvw], p + "v bias")
            try check(w.bo, [c.dModel], p + "output bias")
            try check(w.mlpNorm, [c.dModel], p + "MLP norm")
            try check(w.mlpNormBias, [c.dModel], p + "MLP norm bias")
            try check(w.wGate, [c.dMLP, c.dModel], p + "gate projection")
            if c.mlpKind == .swiGLU && w.wGate == nil {
                throw ModelError.tensorShape(file: file, tensor: p + "gate projection", expected: [c.dMLP, c.dModel], found: [])
            }
            try check(w.wUp, [c.dMLP, c.dModel], p + "up projection")
            try check(w.bUp, [c.dMLP], p + "up bias")
            try check(w.wDown, [c.dModel, c.dMLP], p + "down projection")
            try check(w.bDown, [c.dModel], p + "down bias")
        }
        if layers.count != c.nLayers {
            throw ModelError.badMetadata(file: file, key: "block count",
                                         reason: "says \(c.nLayers) layers but the file has weights for \(layers.count)")
        }
    }
}
