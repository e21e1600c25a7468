/// Limited-memory BFGS for smooth convex objectives, in Double.
///
/// Two-loop recursion with `memory` correction pairs (scipy's default, 10), an Armijo
/// backtracking line search starting at the unit step (the first step is scaled to
/// `1/|g|`), and scipy's stopping rules: converged when the largest gradient component is at
/// most `tolerance` (`gtol`), or when the objective's relative decrease falls below
/// `64 * ulp(1)` (`ftol`). For a strictly convex objective (an L2 penalty makes a probe's
/// loss one) every step keeps `sᵀy > 0`, so the update stays positive definite.
public struct LBFGS: Sendable {
    public var memory = 10
    public var tolerance = 1e-4
    public var maxIterations = 1000

    public init(memory: Int = 10, tolerance: Double = 1e-4, maxIterations: Int = 1000) {
        self.memory = memory
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    /// What a minimization ended with.
    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        public var gradientMax: Double
        public var iterations: Int
        public var evaluations: Int
        public var converged: Bool
    }

    /// Minimizes `f` from `x0`; `f` returns the value and writes the gradient into its second argument.
    public func minimize(_ x0: [Double], _ f: ([Double], inout [Double]) -> Double) -> Result {
        let n = x0.count
        var x = x0
        var g = [Double](repeating: 0, count: n)
        var fx = f(x, &g)
        var evaluations = 1
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        var iteration = 0
        var gNew = g
        while true {
            let gmax = g.reduce(0) { max($0, abs($1)) }
            if gmax <= tolerance { return Result(x: x, value: fx, gradientMax: gmax, iterations: iteration, evaluations: evaluations, converged: true) }
            if iteration >= maxIterations { return Result(x: x, value: fx, gradientMax: gmax, iterations: iteration, evaluations: evaluations, converged: false) }
            // Direction d = -H g by the two-loop recursion.
            var q = g
            var alpha = [Double](repeating: 0, count: s.count)
            for i in stride(from: s.count - 1, through: 0, by: -1) {
                alpha[i] = rho[i] * dot(s[i], q)
                axpy(-alpha[i], y[i], &q)
            }
            if let lastS = s.last, let lastY = y.last {
                let gamma = dot(lastS, lastY) / dot(lastY, lastY)
                for j in 0..<n { q[j] *= gamma }
            }
            for i in 0..<s.count {
                let beta = rho[i] * dot(y[i], q)
                axpy(alpha[i] - beta, s[i], &q)
            }
            var d = q.map { -$0 }
            var slope = dot(g, d)
            if !(slope < 0) {  // not a descent direction (round-off): restart from steepest descent
                s.removeAll(); y.removeAll(); rho.removeAll()
                d = g.map { -$0 }
                slope = dot(g, d)
            }
            var step = s.isEmpty ? min(1, 1 / max(dot(g, g).squareRoot(), 1e-300)) : 1
            var xNew = x, fNew = fx
            var accepted = false
            for _ in 0..<60 {
                for j in 0..<n { xNew[j] = x[j] + step * d[j] }
                fNew = f(xNew, &gNew)
                evaluations += 1
                if fNew.isFinite && fNew <= fx + 1e-4 * step * slope { accepted = true; break }
                // Quadratic interpolation of the step, kept within [0.1, 0.5] of the last one.
                let denominator = 2 * (fNew - fx - step * slope)
                let t = denominator > 0 && fNew.isFinite ? -slope * step * step / denominator : step / 2
                step = min(max(t, step * 0.1), step * 0.5)
            }
            iteration += 1
            if !accepted {
                let gmax = g.reduce(0) { max($0, abs($1)) }
                return Result(x: x, value: fx, gradientMax: gmax, iterations: iteration, evaluations: evaluations, converged: false)
            }
            let sk = (0..<n).map { xNew[$0] - x[$0] }
            let yk = (0..<n).map { gNew[$0] - g[$0] }
            let sy = dot(sk, yk)
            if sy > 1e-10 * dot(yk, yk) {
                s.append(sk); y.append(yk); rho.append(1 / sy)
                if s.count > memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            }
            let relative = (fx - fNew) / max(abs(fx), abs(fNew), 1)
            x = xNew; g = gNew
            let previous = fx
            fx = fNew
            if relative <= 64 * Double.ulpOfOne && previous >= fNew {
                let gmax = g.reduce(0) { max($0, abs($1)) }
                return Result(x: x, value: fx, gradientMax: gmax, iterations: iteration, evaluations: evaluations, converged: true)
            }
        }
    }
}

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

@inline(__always) func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
    for i in x.indices { y[i] += alpha * x[i] }
}
