import Linalg
import Models

/// Activation patching between two prompts of equal token length (Vig et al. 2020; Wang et
/// al. 2022, "Interpretability in the Wild"; Heimersheim & Nanda 2024, "How to use and
/// interpret activation patching").
///
/// One prompt is *clean* (the model gives `answer`), the other *corrupted* (it differs in a
/// few tokens and pushes the model toward `wrong`). A patch copies one activation from the
/// *source* run into the *base* run: clean into corrupted (**denoising**: which activations
/// suffice to restore the clean behaviour) or corrupted into clean (**noising**: which are
/// necessary for it). Sites are the residual stream entering a block, the attention and MLP
/// outputs per (layer, position), and each attention head's output (`hook_z`) per layer at
/// all positions.
///
/// Every patched run reuses the base run's KV cache for the positions before the patched one
/// and resumes at the patched layer; positions before the first token where the prompts
/// differ hold the same activations in both runs, so patching them cannot change anything and
/// their cells are the base run's metric without a run.
public struct ActivationPatching: Sendable {
    /// Which way activations are copied.
    public enum Direction: String, Codable, Sendable, CaseIterable {
        /// Clean activation into the corrupted run.
        case denoising
        /// Corrupted activation into the clean run.
        case noising
    }

    /// What is patched.
    public enum Site: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
        /// `blocks.L.hook_resid_pre` at one position.
        case residPre = "resid_pre"
        /// `blocks.L.hook_attn_out` at one position.
        case attnOut = "attn_out"
        /// `blocks.L.hook_mlp_out` at one position.
        case mlpOut = "mlp_out"
        /// One head's `blocks.L.attn.hook_z` at every position.
        case head = "z"

        /// Whether the grid's columns are heads (else positions).
        public var isPerHead: Bool { self == .head }

        /// The hook point patched at `layer`.
        public func point(_ layer: Int) -> HookPoint {
            switch self {
            case .residPre: return .residPre(layer)
            case .attnOut: return .attnOut(layer)
            case .mlpOut: return .mlpOut(layer)
            case .head: return .z(layer)
            }
        }
    }

    /// Settings.
    public struct Config: Codable, Sendable, Equatable {
        public var direction: Direction
        public var sites: [Site]
        /// Layers to patch (nil: all). Rows of the other layers are NaN.
        public var layers: [Int]?

        public init(direction: Direction = .denoising, sites: [Site] = Site.allCases, layers: [Int]? = nil) {
            self.direction = direction
            self.sites = sites
            self.layers = layers
        }
    }

    /// The two numbers measured on every run (NaN for cells not computed; `null` in JSON).
    public struct Measurement: Codable, Sendable, Equatable {
        /// `logit(answer) - logit(wrong)` at the last position.
        public var logitDifference: Double
        /// Probability of `answer` at the last position.
        public var probability: Double

        public init(logitDifference: Double, probability: Double) {
            self.logitDifference = logitDifference
            self.probability = probability
        }

        enum CodingKeys: String, CodingKey { case logitDifference, probability }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            logitDifference = try c.decodeIfPresent(Double.self, forKey: .logitDifference) ?? .nan
            probability = try c.decodeIfPresent(Double.self, forKey: .probability) ?? .nan
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(logitDifference.isNaN ? nil : logitDifference, forKey: .logitDifference)
            try c.encode(probability.isNaN ? nil : probability, forKey: .probability)
        }
    }

    /// What a patching sweep found.
    public struct Result: Codable, Sendable {
        public var config: Config
        public var cleanTokens: [Int]
        public var corruptedTokens: [Int]
        public var answer: Int
        public var wrong: Int
        public var clean: Measurement
        public var corrupted: Measurement
        /// Per site, `[layer][position]` (or `[layer][head]` for ``Site/head``).
        public var grids: [Site: [[Measurement]]]
        /// Per site, like ``grids``: each cell's indirect effect, the patched run's measurement
        /// minus the base run's (logit difference and p(answer)). Set by the sweep.
        public var indirectEffects: [Site: [[Measurement]]]?
        /// Layer-block evaluations (rows x layers) computed by the patched runs, and what
        /// recomputing every run whole would have cost.
        public var rowLayersComputed: Int
        public var rowLayersNaive: Int

        /// The base run's measurement (corrupted when denoising, clean when noising).
        public var base: Measurement { config.direction == .denoising ? corrupted : clean }

        /// Whether the normalized scale exists: the clean and corrupted logit differences differ.
        public var hasNormalizedScale: Bool {
            let gap = clean.logitDifference - corrupted.logitDifference
            return gap != 0 && gap.isFinite
        }

        /// A logit difference on the scale 0 = corrupted run, 1 = clean run,
        /// `(ld - corrupted) / (clean - corrupted)`. When the two runs have the same logit
        /// difference (e.g. identical prompts) there is no scale and every value is NaN
        /// (`null` in JSON, `nan` in CSV), never 0/0 read as 1: compare the logit differences
        /// and ``indirectEffects`` instead.
        public func normalized(_ logitDifference: Double) -> Double {
            guard hasNormalizedScale else { return .nan }
            return (logitDifference - corrupted.logitDifference) / (clean.logitDifference - corrupted.logitDifference)
        }

        /// A measurement minus the base run's: the indirect effect of the patch.
        public func indirectEffect(_ m: Measurement) -> Measurement {
            Measurement(logitDifference: m.logitDifference - base.logitDifference,
                        probability: m.probability - base.probability)
        }

        /// The normalized logit difference of every cell of `site`, `[layer][column]`.
        public func normalizedGrid(_ site: Site) -> [[Double]]? {
            grids[site]?.map { $0.map { normalized($0.logitDifference) } }
        }
    }

    public let model: Transformer
    public let config: Config

    public init(model: Transformer, config: Config = Config()) {
        self.model = model
        self.config = config
    }
}
