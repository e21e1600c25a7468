/// How to fit one probe: the kind and its regularization, standardization and the solver's
/// tolerance. `c` is logistic regression's inverse strength (scikit-learn's `C`; `.infinity`
/// for none), `alpha` ridge's strength.
public struct ProbeOptions: Sendable, Equatable, Codable {
    public var kind: ProbeKind = .logistic
    public var c: Double = 1
    public var alpha: Double = 1
    public var standardize = true
    public var tolerance = 1e-4
    public var maxIterations = 1000

    public init(kind: ProbeKind = .logistic, c: Double = 1, alpha: Double = 1, standardize: Bool = true,
                tolerance: Double = 1e-4, maxIterations: Int = 1000) {
        self.kind = kind
        self.c = c
        self.alpha = alpha
        self.standardize = standardize
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }
}

/// Fits one probe of any kind on a feature matrix.
public enum ProbeTrainer {
    /// A fitted probe and, for logistic regression, how the solver ended.
    public struct Fit: Sendable {
        public var probe: LinearProbe
        public var iterations: Int
        public var converged: Bool
    }

    /// Fits `options.kind` on `m`, standardizing with `m`'s own statistics when asked.
    /// - Throws: ``ProbeError``.
    public static func fit(_ m: FeatureMatrix, _ options: ProbeOptions) throws -> Fit {
        guard m.classes.count >= 2 else {
            throw ProbeError.oneClass(label: "label", value: m.classes.first ?? "")
        }
        let st = options.standardize ? Standardization(fitting: m) : nil
        switch options.kind {
        case .logistic:
            let (probe, result) = try LogisticRegression(c: options.c, tolerance: options.tolerance,
                                                         maxIterations: options.maxIterations).fit(m, standardization: st)
            return Fit(probe: probe, iterations: result.iterations, converged: result.converged)
        case .ridge:
            return Fit(probe: try RidgeRegression(alpha: options.alpha).fitClassifier(m, standardize: options.standardize),
                       iterations: 0, converged: true)
        case .diffmeans:
            return Fit(probe: DifferenceOfMeans.fit(m, standardization: st), iterations: 0, converged: true)
        }
    }
}
