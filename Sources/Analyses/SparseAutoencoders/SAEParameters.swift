import Linalg

/// The weights of an SAE in SAELens's layout, row-major Float: `W_enc` `[d_in, d_sae]`,
/// `W_dec` `[d_sae, d_in]`, `b_enc` `[d_sae]`, `b_dec` `[d_in]`, and for JumpReLU `threshold`
/// `[d_sae]` (empty otherwise). The same shape holds gradients.
public struct SAEParameters: Sendable, Equatable {
    /// Input width (`d_in`).
    public let width: Int
    /// Dictionary size (`d_sae`).
    public let latents: Int
    public var wEnc: [Float]
    public var wDec: [Float]
    public var bEnc: [Float]
    public var bDec: [Float]
    /// JumpReLU's per-latent threshold θ (SAELens `threshold`); empty for other architectures.
    public var threshold: [Float] = []
    /// A transcoder's linear skip term `W_skip` `[d_out, d_in]` (SAELens `SkipTranscoder`,
    /// circuit-tracer `W_skip`): the output gains `x · W_skipᵀ`. Empty: no skip term.
    public var wSkip: [Float] = []
    /// Whether this is a transcoder: its decoder writes a different activation (the target)
    /// than the encoder reads, so `b_dec` is not subtracted from the input (SAELens's
    /// transcoders have `apply_b_dec_to_input` false). `d_out` equals `d_in` here.
    public var isTranscoder = false

    /// `d_out`, the width the decoder writes (equal to `d_in` in this version).
    public var outputWidth: Int { width }
    /// Whether the skip term is present.
    public var hasSkip: Bool { !wSkip.isEmpty }

    /// All-zero parameters.
    /// - Throws: ``SAEError/badSize(_:)`` when a size is not positive or `d_in * d_sae` overflows.
    public init(width: Int, latents: Int) throws {
        try Self.checkSizes(width: width, latents: latents)
        self.width = width
        self.latents = latents
        wEnc = [Float](repeating: 0, count: width * latents)
        wDec = wEnc
        bEnc = [Float](repeating: 0, count: latents)
        bDec = [Float](repeating: 0, count: width)
    }

    /// Checks that `width` and `latents` are positive and their product fits in memory terms.
    public static func checkSizes(width: Int, latents: Int) throws {
        guard width > 0, latents > 0 else { throw SAEError.badSize("SAE sizes d_in \(width) and d_sae \(latents) must be positive") }
        let (p, overflow) = width.multipliedReportingOverflow(by: latents)
        guard !overflow, p <= Int(Int32.max) else {
            throw SAEError.badSize("SAE of d_in \(width) x d_sae \(latents) is too large for one sgemm (\(overflow ? "overflow" : String(p)) weights)")
        }
    }

    /// The Anthropic (April 2024) initialization, also used for TopK: decoder rows in random
    /// directions with norm `decoderNorm`, `W_enc = W_decᵀ`, `b_enc = 0`, `b_dec = 0`.
    public static func initialized(width: Int, latents: Int, decoderNorm: Float, seed: UInt64) throws -> SAEParameters {
        var p = try SAEParameters(width: width, latents: latents)
        var rng = SeededRandom(seed: seed)
        for i in 0..<latents {
            var row = (0..<width).map { _ in rng.nextGaussian() }
            let n = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for j in 0..<width { row[j] *= decoderNorm / n }
            for j in 0..<width {
                p.wDec[i * width + j] = row[j]
                p.wEnc[j * latents + i] = row[j]
            }
        }
        return p
    }

    /// Euclidean norm of each decoder row.
    public var decoderNorms: [Float] {
        (0..<latents).map { i in wDec.withUnsafeBufferPointer { BLAS.norm(n: width, x: $0.baseAddress! + i * width) } }
    }
}
