import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// Folders written by the real `eai-sparsify` package (scripts/fixtures/sae/make_sparsify_fixtures.py)
/// encode, decode and predict in Loupe as in sparsify, within 1e-5 of the largest value and with
/// the same active latents; a Loupe SAE converted to sparsify's layout encodes in sparsify as in Loupe.
struct SparsifyInteropTests {
    static let fixtures = TestFiles.fixtures.appendingPathComponent("sae")

    static func npy(_ name: String) throws -> Tensor { try NumPyArray.read(path: fixtures.appendingPathComponent(name).path) }

    /// The largest difference relative to the largest value, and whether the nonzero patterns agree.
    static func compare(_ a: Tensor, _ b: Tensor) -> (relative: Float, samePattern: Bool) {
        let scale = max(b.scalars.map(abs).max() ?? 1, 1e-12)
        let diff = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        return (diff / scale, zip(a.scalars, b.scalars).allSatisfy { ($0 != 0) == ($1 != 0) })
    }

    @Test func sparsifyTopKEncodesAndDecodesAsInSparsify() throws {
        let (sae, _) = try SAEFolder.load(Self.fixtures.appendingPathComponent("sparsify-topk").path)
        #expect(sae.architecture == "topk" && sae.latents == 48 && sae.width == 16 && !sae.isTranscoder)
        let x = try Self.npy("inputs.npy")
        let f = try sae.encode(x)
        let e = Self.compare(f, try Self.npy("encoded-sparsify-topk.npy"))
        #expect(e.relative < 1e-5 && e.samePattern, "\(e)")
        let d = Self.compare(try sae.decode(f), try Self.npy("decoded-sparsify-topk.npy"))
        #expect(d.relative < 1e-5, "\(d)")
    }

    @Test func sparsifySkipTranscoderPredictsAsInSparsify() throws {
        let (sae, _) = try SAEFolder.load(Self.fixtures.appendingPathComponent("sparsify-skip_transcoder").path)
        #expect(sae.isTranscoder && sae.parameters.hasSkip)
        let x = try Self.npy("inputs.npy")
        let e = Self.compare(try sae.encode(x), try Self.npy("encoded-sparsify-skip_transcoder.npy"))
        #expect(e.relative < 1e-5 && e.samePattern, "\(e)")
        let o = Self.compare(try sae.output(x), try Self.npy("output-sparsify-skip_transcoder.npy"))
        #expect(o.relative < 1e-5, "\(o)")
    }

    @Test func loupeTopKConvertedEncodesInSparsifyAsInLoupe() throws {
        let (sae, _) = try SAEFolder.load(Self.fixtures.appendingPathComponent("loupe-topk").path)
        let e = Self.compare(try sae.encode(try Self.npy("inputs.npy")), try Self.npy("encoded-loupe-topk-sparsify.npy"))
        #expect(e.relative < 1e-5 && e.samePattern, "\(e)")
    }
}
