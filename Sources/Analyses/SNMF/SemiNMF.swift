/// Semi-nonnegative matrix factorization (Ding, Li & Jordan 2010) of activations, as used by
/// Shafran, Geiger & Geva 2025 to decompose MLP activations into neuron-group features:
/// `A (d x n, tokens as columns) ≈ Z (d x k, any sign) · Y (k x n, Y >= 0)`.
///
/// Storage is row-major and token-first, so nothing is transposed in memory: the input is
/// `X = Aᵀ` (`[n, d]`, a row per token), the features are `Zᵀ` (`[k, d]`, a row per feature)
/// and the codes are `Y` (`[k, n]`, a row per feature).
public struct SemiNMF: Sendable {
    /// How the first `Y` (and `Z`) are chosen.
    public enum Initialization: String, Sendable, Codable, CaseIterable {
        /// `Y` uniform in [0, 1) from ``Config/seed``; `Z` the ridge least-squares fit to it.
        case random
        /// The top-k singular triplets: `Y` the absolute values of the right singular
        /// vectors, `Z = U Σ` (signs chosen so each right vector sums to >= 0).
        case svd
        /// k-means of the tokens (``kMeans(_:k:seed:iterations:chunkRows:)``, k-means++
        /// seeded from ``Config/seed``): `Y` the cluster indicator plus 0.2 (Ding et al. 2010),
        /// `Z` the ridge least-squares fit to it.
        case kmeans
    }

    /// Every setting of a fit (all saved with the result).
    public struct Config: Sendable, Codable, Equatable {
        /// Number of features k.
        public var rank: Int
        /// Fraction of neurons kept per feature after each Z step (0: keep all).
        public var sparsity: Double = 0.01
        /// λ in `Z = A Yᵀ (Y Yᵀ + λI)⁻¹`.
        public var ridge: Double = 1e-6
        /// Added to the denominator of the multiplicative Y update.
        public var epsilon: Double = 1e-9
        public var initialization: Initialization = .svd
        public var seed: UInt64 = 0
        /// Iteration cap.
        public var iterations: Int = 100
        /// An iteration improves when it lowers the best loss by more than this fraction.
        public var tolerance: Double = 1e-5
        /// Stop after this many iterations in a row without improvement.
        public var patience: Int = 5

        public init(rank: Int, sparsity: Double = 0.01, ridge: Double = 1e-6, epsilon: Double = 1e-9,
                    initialization: Initialization = .svd, seed: UInt64 = 0, iterations: Int = 100,
                    tolerance: Double = 1e-5, patience: Int = 5) {
            self.rank = rank
            self.sparsity = sparsity
            self.ridge = ridge
            self.epsilon = epsilon
            self.initialization = initialization
            self.seed = seed
            self.iterations = iterations
            self.tolerance = tolerance
            self.patience = patience
        }

        /// Neurons kept per feature out of `d` (`d` when sparsity is 0, else at least 1).
        public func keptNeurons(of d: Int) -> Int {
            sparsity <= 0 ? d : Swift.min(d, Swift.max(1, Int((sparsity * Double(d)).rounded(.up))))
        }

        /// Checks every setting but the rank (which the fit checks against the input's size).
        /// - Throws: ``SNMFError/invalidSetting(_:)`` naming the first value out of range.
        public func validate() throws {
            func bad(_ s: String) -> SNMFError { .invalidSetting(s) }
            guard sparsity >= 0, sparsity <= 1 else { throw bad("sparsity \(sparsity) is outside [0, 1]") }
            guard ridge >= 0, ridge.isFinite else { throw bad("ridge \(ridge) must be finite and >= 0") }
            guard epsilon >= 0, epsilon.isFinite else { throw bad("epsilon \(epsilon) must be finite and >= 0") }
            guard iterations >= 1 else { throw bad("iterations \(iterations) must be at least 1") }
            guard tolerance >= 0, tolerance.isFinite else { throw bad("tolerance \(tolerance) must be finite and >= 0") }
            guard patience >= 1 else { throw bad("patience \(patience) must be at least 1") }
        }
    }

    /// A starting point: `features` is `Zᵀ` (`[k, d]`), `codes` is `Y` (`[k, n]`, >= 0).
    /// Each iteration begins with the Z step, so only `codes` affects the iterates; `features`
    /// gives the starting loss.
    public struct Start: Sendable {
        public var features: [Float]
        public var codes: [Float]
        public init(features: [Float], codes: [Float]) {
            self.features = features
            self.codes = codes
        }
    }

    /// The outcome of a fit: the best iterate and the loss curve.
    public struct Result: Sendable {
        public var config: Config
        /// Tokens n, neurons d, features k.
        public var tokens: Int, neurons: Int
        /// `Zᵀ` of the best iterate, `[k, d]` (a row per feature).
        public var features: [Float]
        /// `Y` of the best iterate, `[k, n]` (a row per feature, >= 0).
        public var codes: [Float]
        /// `‖A‖²`.
        public var totalSquares: Double
        /// The loss `‖A - ZY‖²` of the start, then after each iteration (index i: iteration i).
        public var losses: [Double]
        /// The iteration (1-based) whose iterate is kept.
        public var bestIteration: Int
        /// Whether the tolerance stopped the fit before the iteration cap.
        public var converged: Bool

        public var rank: Int { config.rank }
        /// The kept iterate's loss.
        public var bestLoss: Double { losses[bestIteration] }
        /// `‖A - ZY‖ / ‖A‖` for each entry of ``losses``.
        public var relativeErrors: [Double] {
            losses.map { totalSquares > 0 ? (max($0, 0) / totalSquares).squareRoot() : 0 }
        }
        /// The kept iterate's relative error.
        public var relativeError: Double { relativeErrors[bestIteration] }
    }

    public var config: Config
    public init(config: Config) { self.config = config }
}

extension SemiNMF.Initialization {
    /// How a report names the start, e.g. `kmeans (k-means++ seed 3; Y = clusters + 0.2)`.
    public func summary(seed: UInt64) -> String {
        switch self {
        case .random: return "random (seed \(seed))"
        case .svd: return "svd (Y = |top right singular vectors|)"
        case .kmeans: return "kmeans (k-means++ seed \(seed), Lloyd; Y = cluster indicator + 0.2)"
        }
    }
}
