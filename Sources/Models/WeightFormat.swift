import Linalg
import Foundation

/// How the loader holds a model's matrices (`--weights`).
public enum WeightFormat: String, Sendable, CaseIterable, Codable {
    /// GGUF matrices stay in their block format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
    /// Q6_K, F16, BF16 with rows of a multiple of 32), and safetensors F16/BF16 matrices stay
    /// 16-bit, read in place from the mapped file by ``Formats/QuantizedMatrix``; other tensors
    /// (norms, biases, F32 matrices, GPT-2's transposed Conv1D weights) are float32.
    case native
    /// Every weight dequantized to float32 at load: the exact path (sgemv/sgemm on dense weights).
    case f32

    /// `$LOUPE_WEIGHTS` when it names a format, else ``native`` (AVX2/FMA kernels where the
    /// CPU has them, ``Linalg/KernelSet``). Read once; an unknown value warns on standard error.
    public static var `default`: WeightFormat { fromEnvironment }

    private static let fromEnvironment: WeightFormat = {
        let (format, warning) = parse(ProcessInfo.processInfo.environment["LOUPE_WEIGHTS"])
        if let warning { FileHandle.standardError.write(Data("loupe: \(warning)\n".utf8)) }
        return format
    }()

    /// The format a `$LOUPE_WEIGHTS` value names (``native`` when unset or empty, any letter
    /// case) and, for a value that names none, a warning saying ``native`` is used instead.
    public static func parse(_ value: String?) -> (format: WeightFormat, warning: String?) {
        guard let value, !value.isEmpty else { return (.native, nil) }
        if let format = WeightFormat(rawValue: value.lowercased()) { return (format, nil) }
        return (.native, "LOUPE_WEIGHTS=\(value) is not native or f32; using native")
    }
}
