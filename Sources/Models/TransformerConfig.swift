/// Everything the forward pass needs to know about a model's shape, read from the model
/// file's metadata (GGUF) or `config.json` (safetensors). A plain value: print it, compare it,
/// store it next to activations.
public struct TransformerConfig: Sendable, Equatable, Codable {
    /// Architecture family as the file names it (`llama`, `qwen2`, `gpt2`, ...).
    public var architecture: String
    /// Human-readable model name when the file has one.
    public var name: String
    public var vocabSize: Int
    /// Width of the residual stream.
    public var dModel: Int
    public var nLayers: Int
    public var nHeads: Int
    /// Key/value heads (grouped-query attention when fewer than `nHeads`).
    public var nKVHeads: Int
    public var headDim: Int
    /// Width of the MLP hidden layer.
    public var dMLP: Int
    /// Longest sequence the model was trained for; longer prompts are refused.
    public var contextLength: Int
    public var normKind: NormKind
    public var normEps: Float
    public var mlpKind: MLPKind
    public var positionKind: PositionKind
    /// RoPE base frequency (`rope_theta`).
    public var ropeTheta: Float
    /// How RoPE frequencies are rescaled for long contexts, if at all.
    public var ropeScaling: RoPEScaling?
    /// Whether the unembedding reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Whether q/k/v projections carry biases (Qwen2, GPT-2).
    public var attentionBias: Bool
    /// Family-specific additions to the pass (embedding scale, logit soft-capping); see
    /// ``PassOptions`` for which exist and how a family adds the others.
    public var pass: PassOptions {
        get { storedPass ?? PassOptions() }
        set { storedPass = newValue.isDefault ? nil : newValue }
    }
    /// `pass` when not the default: configs stored before it existed decode, and default
    /// configs encode to the same JSON as before.
    private var storedPass: PassOptions?

    private enum CodingKeys: String, CodingKey {
        case architecture, name, vocabSize, dModel, nLayers, nHeads, nKVHeads, headDim, dMLP,
             contextLength, normKind, normEps, mlpKind, positionKind, ropeTheta, ropeScaling,
             tiedEmbeddings, attentionBias
        case storedPass = "pass"
    }

    /// Memberwise initializer.
    public init(
        architecture: String,
        name: String,
        vocabSize: Int,
        dModel: Int,
        nLayers: Int,
        nHeads: Int,
        nKVHeads: Int,
        headDim: Int,
        dMLP: Int,
        contextLength: Int,
        normKind: NormKind,
        normEps: Float,
        mlpKind: MLPKind,
        positionKind: PositionKind,
        ropeTheta: Float,
        ropeScaling: RoPEScaling?,
        tiedEmbeddings: Bool,
        attentionBias: Bool,
        pass: PassOptions = PassOptions()
    ) {
        self.architecture = architecture
        self.name = name
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.nLayers = nLayers
        self.nHeads = nHeads
        self.nKVHeads = nKVHeads
        self.headDim = headDim
        self.dMLP = dMLP
        self.contextLength = contextLength
        self.normKind = normKind
        self.normEps = normEps
        self.mlpKind = mlpKind
        self.positionKind = positionKind
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
        self.pass = pass
    }

    public enum NormKind: String, Sendable, Codable { case rmsNorm, layerNorm }
    public enum MLPKind: String, Sendable, Codable {
        /// `down(silu(gate(x)) * up(x))` (Llama).
        case swiGLU
        /// `proj(gelu(fc(x)))` with GPT-2's tanh GELU.
        case geluTanh
    }
    public enum PositionKind: String, Sendable, Codable {
        /// Rotary embeddings on q and k (`rotate_half` layout).
        case rotary
        /// Learned absolute position embeddings added to the tokens (GPT-2).
        case learned
    }

    /// Query heads that share one key/value head.
    public var groupSize: Int { nHeads / nKVHeads }

    /// Dimensions RoPE rotates in each head (all of them here).
    public var ropeDim: Int { headDim }
}

/// RoPE frequency scaling.
public enum RoPEScaling: Sendable, Equatable, Codable {
    /// Positions divided by `factor` (position interpolation).
    case linear(factor: Float)
    /// Llama 3.1's piecewise rescaling of the frequencies.
    case llama3(factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalContext: Int)
    /// Per-frequency divisors given by the file (`rope_freqs.weight` in GGUF).
    case explicitFactors([Float])
}

extension TransformerConfig {
    /// Inverse RoPE frequencies `1 / theta^(2i/d)`, rescaled as the config says; `[headDim/2]`.
    public func ropeInverseFrequencies() -> [Float] {
        let half = ropeDim / 2
        var inv = (0..<half).map { i in
            Float(1.0 / Double.pow(Double(ropeTheta), Double(2 * i) / Double(ropeDim)))
        }
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            inv = inv.map { $0 / factor }
        case .explicitFactors(let factors):
            for i in 0..<min(half, factors.count) { inv[i] /= factors[i] }
        case .llama3(let factor, let lowFF, let highFF, let original):
            // Llama 3.1: long wavelengths scaled by `factor`, short ones kept, smooth between.
            let lowWavelen = Float(original) / lowFF
            let highWavelen = Float(original) / highFF
            inv = inv.map { f in
                let wavelen = 2 * Float.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / factor }
                let smooth = (Float(original) / wavelen - lowFF) / (highFF - lowFF)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
        return inv
    }
}

import RealModule
