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
    /// CPU has them, ``Linalg/KernelSet``).
    public static var `default`: WeightFormat {
        ProcessInfo.processInfo.environment["LOUPE_WEIGHTS"].flatMap(WeightFormat.init(rawValue:)) ?? .native
    }
}
