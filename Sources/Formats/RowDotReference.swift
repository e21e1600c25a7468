/// The scalar twin of ``RowDot``: the row dequantized by ``DequantizeReference`` and a
/// plain dot product accumulated in Double. Tests compare the SIMD kernels against it.
public enum RowDotReference {
    /// `Σ_k W[k] · x[k]` (and `Σ_k |W[k]| · |x[k]|`, the scale for a tolerance) for one row
    /// of `type` encoded in `row`.
    public static func dot(_ type: GGMLType, row: [UInt8], x: [Float]) throws(FormatError) -> (value: Double, magnitude: Double) {
        let w = try DequantizeReference.floats(type, bytes: row)
        guard w.count == x.count else {
            throw .invalidValue(FormatError.Location(file: "(memory)", object: "\(type) row"),
                                reason: "row holds \(w.count) elements, input \(x.count)")
        }
        var value = 0.0, magnitude = 0.0
        for i in 0..<w.count {
            value += Double(w[i]) * Double(x[i])
            magnitude += abs(Double(w[i]) * Double(x[i]))
        }
        return (value, magnitude)
    }
}
