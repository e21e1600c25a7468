import CKernels
import Foundation

/// Which SIMD kernels run: Formats' in-place weight kernels (`RowDot`, `QuantizedMatrix`)
/// and the forward pass's elementwise ``Kernels``. ``active`` is chosen once per process: the AVX2 kernels when the CPU has AVX2, FMA and
/// F16C, else the generic ones; `LOUPE_KERNELS=generic|avx2|auto` overrides it.
public enum KernelSet: String, Sendable, CaseIterable {
    /// Swift SIMD kernels for x86-64's SSE2 baseline (any CPU); `RowDotKernels`, `TileKernels`,
    /// the Swift loops of ``Kernels``.
    case generic
    /// C kernels compiled for AVX2, FMA and F16C (the `CKernels` target), run only when the
    /// CPU reports all three.
    case avx2

    /// Whether this CPU (and OS) runs the set.
    public var isSupported: Bool { self == .generic || Self.cpuHasAVX2 }

    /// The sets this CPU runs (tests compare each one with the scalar twins).
    public static var supported: [KernelSet] { allCases.filter(\.isSupported) }

    /// CPUID and XGETBV report AVX2, FMA, F16C and the OS saving the YMM registers.
    public static let cpuHasAVX2 = loupe_cpu_has_avx2() != 0

    /// The set every product uses unless told otherwise: ``choose(_:cpuHasAVX2:)`` of
    /// `$LOUPE_KERNELS`; a warning goes to standard error when the request cannot be honoured.
    public static let active: KernelSet = {
        let (set, warning) = choose(ProcessInfo.processInfo.environment["LOUPE_KERNELS"], cpuHasAVX2: cpuHasAVX2)
        if let warning { FileHandle.standardError.write(Data("loupe: \(warning)\n".utf8)) }
        return set
    }()

    /// The set `request` names (`generic`, `avx2`, `auto` or nil for the best this CPU runs)
    /// and, when the request is unknown or asks for AVX2 on a CPU without it, a warning that
    /// says which set is used instead.
    public static func choose(_ request: String?, cpuHasAVX2: Bool) -> (set: KernelSet, warning: String?) {
        let best: KernelSet = cpuHasAVX2 ? .avx2 : .generic
        switch request?.lowercased() {
        case nil, "", "auto": return (best, nil)
        case "generic": return (.generic, nil)
        case "avx2":
            return cpuHasAVX2 ? (.avx2, nil)
                : (.generic, "LOUPE_KERNELS=avx2, but this CPU lacks AVX2, FMA or F16C; using the generic kernels")
        case let other?:
            return (best, "LOUPE_KERNELS=\(other) is not generic, avx2 or auto; using the \(best.rawValue) kernels")
        }
    }
}
