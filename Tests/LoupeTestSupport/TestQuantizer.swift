import Formats
import Linalg

/// Plain quantizers for test files (round to nearest, as ggml's reference quantizers do
/// up to tie-breaking): rows of floats into Q8_0, Q4_1 or F16 blocks.
public enum TestQuantizer {
    /// The types ``bytes(_:type:)`` writes.
    public static let types: [GGMLType] = [.q8_0, .q4_1, .f16]

    /// `values` (a whole number of 32-element blocks) encoded as `type`.
    public static func bytes(_ values: [Float], type: GGMLType) -> [UInt8] {
        precondition(values.count % 32 == 0 && types.contains(type), "\(values.count) values as \(type)")
        func half(_ v: Float) -> [UInt8] { let b = Float16(v).bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8)] }
        if type == .f16 { return values.flatMap(half) }
        var out: [UInt8] = []
        for b in stride(from: 0, to: values.count, by: 32) {
            let block = values[b..<(b + 32)]
            switch type {
            case .q8_0:
                let amax = block.map(abs).max() ?? 0, d = amax / 127
                let dh = Float(Float16(d)), inv = dh == 0 ? 0 : 1 / dh
                out += half(d)
                out += block.map { UInt8(bitPattern: Int8(max(-127, min(127, ($0 * inv).rounded())))) }
            default:  // q4_1
                let lo = block.min() ?? 0, hi = block.max() ?? 0, d = (hi - lo) / 15
                let dh = Float(Float16(d)), mh = Float(Float16(lo)), inv = dh == 0 ? 0 : 1 / dh
                let q = block.map { UInt8(max(0, min(15, (($0 - mh) * inv).rounded()))) }
                out += half(d) + half(lo)
                out += (0..<16).map { q[$0] | q[$0 + 16] << 4 }
            }
        }
        return out
    }
}
