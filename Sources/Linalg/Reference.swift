import RealModule

/// Plain, strict scalar versions of ``Kernels``: the readable statement of each formula and
/// the oracle the kernels are tested against. Slow on purpose; never used in the forward pass.
public enum Reference {
    /// RMSNorm of one row.
    public static func rmsNorm(_ x: [Float], weight: [Float], eps: Float) -> [Float] {
        let ms = x.map { Double($0) * Double($0) }.reduce(0, +) / Double(x.count)
        let scale = 1 / (ms + Double(eps)).squareRoot()
        return zip(x, weight).map { Float(Double($0) * scale * Double($1)) }
    }

    /// LayerNorm of one row.
    public static func layerNorm(_ x: [Float], weight: [Float], bias: [Float], eps: Float) -> [Float] {
        let n = Double(x.count)
        let mean = x.map(Double.init).reduce(0, +) / n
        let variance = x.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / n
        let scale = 1 / (variance + Double(eps)).squareRoot()
        return x.indices.map { Float((Double(x[$0]) - mean) * scale * Double(weight[$0]) + Double(bias[$0])) }
    }

    /// Softmax of one row.
    public static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { Double.exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    /// SiLU(g) * u.
    public static func swiGLU(gate: [Float], up: [Float]) -> [Float] {
        zip(gate, up).map { g, u in Float(Double(g) / (1 + Double.exp(-Double(g))) * Double(u)) }
    }

    /// GPT-2's tanh GELU.
    public static func geluTanh(_ x: [Float]) -> [Float] {
        x.map { v in
            let d = Double(v)
            return Float(0.5 * d * (1 + Double.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
        }
    }

    /// `rotate_half` RoPE on one head vector at one position.
    public static func rope(_ v: [Float], position: Int, invFreq: [Float]) -> [Float] {
        let half = v.count / 2
        var out = v
        for i in 0..<half {
            let angle = Double(position) * Double(invFreq[i])
            let c = Double.cos(angle), s = Double.sin(angle)
            out[i] = Float(Double(v[i]) * c - Double(v[i + half]) * s)
            out[i + half] = Float(Double(v[i + half]) * c + Double(v[i]) * s)
        }
        return out
    }
}
