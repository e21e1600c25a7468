/// Adam (Kingma and Ba 2015) for one parameter array in Float: the first and second moment
/// estimates with bias correction, `p -= lr * m̂ / (√v̂ + ε)`.
///
/// One `Adam` value owns the moments of one parameter array (an encoder matrix, a bias);
/// a model with several arrays keeps one per array. The moment arithmetic runs in Float, as
/// PyTorch's does for Float parameters. Large arrays are updated on all cores, eight lanes
/// at a time; the update is element-wise, so the result is the same for any thread count.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Steps taken so far (the bias correction's exponent).
    public private(set) var steps = 0
    private var m: [Float] = []
    private var v: [Float] = []
    private var beta1Power: Float = 1
    private var beta2Power: Float = 1

    /// Everything a step depends on besides the learning rate and the betas: the step count,
    /// the moments and the running bias-correction powers (a checkpoint saves and restores it,
    /// so a resumed run takes the same steps bit for bit).
    public struct State: Sendable, Equatable {
        public var steps: Int
        public var m: [Float]
        public var v: [Float]
        public var beta1Power: Float
        public var beta2Power: Float
        public init(steps: Int, m: [Float], v: [Float], beta1Power: Float, beta2Power: Float) {
            (self.steps, self.m, self.v, self.beta1Power, self.beta2Power) = (steps, m, v, beta1Power, beta2Power)
        }
    }

    /// The optimizer's state; setting it continues from a saved one.
    /// - Precondition (set): `m` and `v` have the same count and `steps >= 0`.
    public var state: State {
        get { State(steps: steps, m: m, v: v, beta1Power: beta1Power, beta2Power: beta2Power) }
        set {
            precondition(newValue.m.count == newValue.v.count && newValue.steps >= 0, "Adam: moments of \(newValue.m.count) and \(newValue.v.count) values")
            (steps, m, v, beta1Power, beta2Power) = (newValue.steps, newValue.m, newValue.v, newValue.beta1Power, newValue.beta2Power)
        }
    }

    /// PyTorch's defaults: `beta1` 0.9, `beta2` 0.999, `epsilon` 1e-8.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(learningRate > 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon > 0,
                     "Adam: learning rate \(learningRate), betas \(beta1), \(beta2), epsilon \(epsilon)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// One update of `parameters` by `gradient` (same count; the first step fixes the count).
    public mutating func step(_ parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == gradient.count, "Adam: \(parameters.count) parameters, \(gradient.count) gradients")
        if steps == 0 {
            m = [Float](repeating: 0, count: parameters.count)
            v = m
        }
        precondition(m.count == parameters.count, "Adam: parameter count changed from \(m.count) to \(parameters.count)")
        steps += 1
        beta1Power *= beta1
        beta2Power *= beta2
        let c1 = 1 - beta1Power, c2 = 1 - beta2Power
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, count = parameters.count
        guard count > 0 else { return }
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                parameters.withUnsafeMutableBufferPointer { p in
                    gradient.withUnsafeBufferPointer { g in
                        // Element-wise, so any split across threads gives the same bits.
                        nonisolated(unsafe) let (m, v, p, g) = (m.baseAddress!, v.baseAddress!, p.baseAddress!, g.baseAddress!)
                        parallelChunks(count, minimumPerChunk: 1 << 16) { range in
                            Self.update(range, p: p, g: g, m: m, v: v, lr: lr, b1: b1, b2: b2, eps: eps, c1: c1, c2: c2)
                        }
                    }
                }
            }
        }
    }

    /// The update of elements `range`, eight lanes at a time: the same operations in the same
    /// order as the scalar tail, so every element gets the bits a scalar loop would give it.
    @inline(__always)
    private static func update(_ range: Range<Int>, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                               m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                               lr: Float, b1: Float, b2: Float, eps: Float, c1: Float, c2: Float) {
        typealias V = SIMD8<Float>
        var i = range.lowerBound
        let (vb1, vb2, va1, va2) = (V(repeating: b1), V(repeating: b2), V(repeating: 1 - b1), V(repeating: 1 - b2))
        let (vlr, veps, vc1, vc2) = (V(repeating: lr), V(repeating: eps), V(repeating: c1), V(repeating: c2))
        func load(_ x: UnsafePointer<Float>) -> V { UnsafeRawPointer(x).loadUnaligned(as: V.self) }
        while i + 8 <= range.upperBound {
            let gi = load(g + i)
            let mi = vb1 * load(m + i) + va1 * gi
            let vi = vb2 * load(v + i) + va2 * gi * gi
            let pi = load(p + i) - vlr * (mi / vc1) / ((vi / vc2).squareRoot() + veps)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            i += 8
        }
        while i < range.upperBound {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            p[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
            i += 1
        }
    }
}
