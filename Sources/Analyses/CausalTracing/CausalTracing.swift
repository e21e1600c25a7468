import Linalg
import Models

/// Causal tracing as in ROME (Meng et al. 2022, "Locating and Editing Factual Associations in
/// GPT", §2.1): corrupt the subject's token embeddings with Gaussian noise, then restore the
/// clean activation at one (layer, token) and measure how much of the clean probability of the
/// target token comes back. Restoring the residual stream ("state") is done per layer; MLP and
/// attention outputs are restored over a window of layers around each layer, as ROME does.
///
/// Every restoration run reuses the corrupted run's KV cache for the positions before the
/// restored token and starts at the first layer it changes (``Transformer/forward(resuming:residuals:caches:hooks:logits:)``),
/// and all runs of one layer go through the forward pass as one batch; ``Config/lanes`` trace
/// several layers at once. Window runs of layers whose windows start together (clipped at layer 0)
/// branch off the previous layer's runs where their restorations first differ.
public struct CausalTracing: Sendable {
    /// What is restored in a cell of the grid.
    public enum Kind: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
        /// The residual stream leaving block L (`hook_resid_post`).
        case state
        /// MLP outputs (`hook_mlp_out`) of the window of layers around L.
        case mlp
        /// Attention outputs (`hook_attn_out`) of the window of layers around L.
        case attention
    }

    /// Settings; printed at the top of every report so it can be rerun.
    public struct Config: Codable, Sendable, Equatable {
        /// Corrupted runs averaged per cell.
        public var samples = 10
        /// Noise standard deviation as a multiple of the token embeddings' standard deviation.
        public var noiseMultiplier: Float = 3
        /// Seed of the noise.
        public var seed: UInt64 = 1
        /// Layers restored together for `mlp` and `attention` (ROME: 10).
        public var window = 10
        /// Which grids to compute.
        public var kinds: [Kind] = Kind.allCases
        /// Layers to compute (nil: all). Rows of the other layers are NaN.
        public var layers: [Int]? = nil
        /// Restoration runs per forward call (nil: all runs of a layer in one batch). Smaller
        /// batches use less memory on long prompts; 1 measures what batching saves.
        public var runsPerBatch: Int? = nil
        /// Layers traced at once, each on its own thread (1: one after another). Use more than
        /// one lane with OpenBLAS set to one thread (``Linalg/BLAS/setThreadCount(_:)``, as
        /// `loupe trace` does): each core then runs whole layers' batches, attention and all,
        /// instead of splitting every product and waiting on the serial parts between them.
        /// Lanes take the longest layers first. Results do not depend on it beyond sgemm's
        /// last bits.
        public var lanes = 1

        public init(samples: Int = 10, noiseMultiplier: Float = 3, seed: UInt64 = 1, window: Int = 10,
                    kinds: [Kind] = Kind.allCases, layers: [Int]? = nil, runsPerBatch: Int? = nil, lanes: Int = 1) {
            self.layers = layers
            self.runsPerBatch = runsPerBatch
            self.lanes = lanes
            self.samples = samples
            self.noiseMultiplier = noiseMultiplier
            self.seed = seed
            self.window = window
            self.kinds = kinds
        }
    }

    /// What a trace found.
    public struct Result: Codable, Sendable {
        public var config: Config
        /// The prompt's token ids.
        public var tokens: [Int]
        /// Positions of the subject's tokens.
        public var subject: Range<Int>
        /// The token whose probability is measured.
        public var target: Int
        /// Standard deviation of the noise actually used (nil when noise was given).
        public var noiseStd: Float?
        public var cleanProbability: Double
        /// Mean over the corrupted runs.
        public var corruptedProbability: Double
        /// Per kind, `[layer][position]`: mean probability of the target with that cell restored.
        public var grids: [Kind: [[Double]]]
        /// Per kind, `[layer][position]`: each cell's indirect effect, restored minus corrupted
        /// probability (ROME's IE). Set by the sweep; also in the CSVs as `indirect_effect`.
        public var indirectEffects: [Kind: [[Double]]]?
        /// Layer-block evaluations (rows x layers) actually computed, and what recomputing every
        /// run from scratch would have cost, in the same unit.
        public var rowLayersComputed: Int
        public var rowLayersNaive: Int

        /// Restored minus corrupted probability: the indirect effect of a cell.
        public func indirectEffect(_ kind: Kind) -> [[Double]]? {
            grids[kind]?.map { $0.map { $0 - corruptedProbability } }
        }
    }

    public let model: Transformer
    public let config: Config

    public init(model: Transformer, config: Config = Config()) {
        self.model = model
        self.config = config
    }

    /// The layers restored together for `layer`: ROME's window, `layer - w/2` up to but not
    /// including `layer + ceil(w/2)`, clipped to the model.
    public func window(around layer: Int) -> Range<Int> {
        layerWindow(around: layer, width: config.window, layers: model.config.nLayers)
    }
}
