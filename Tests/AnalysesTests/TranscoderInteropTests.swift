import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// SAELens transcoders (sae-lens 6.54 `SkipTranscoder` and `JumpReLUTranscoder`, written by its
/// own `save_model` in scripts/fixtures/sae/make_transcoder_fixtures.py, committed) load in Loupe
/// and encode, and predict the output, as sae-lens did after its `load_from_disk`.
struct TranscoderInteropTests {
    @Test(arguments: [("skip_transcoder", "standard", true), ("jumprelu_transcoder", "jumprelu", false)])
    func saeLensTranscodersEncodeAndPredictTheSame(_ name: String, _ architecture: String, _ skip: Bool) throws {
        let (tc, metadata) = try SAEFolder.load(SAELensInteropTests.dir.appendingPathComponent("saelens-\(name)").path)
        #expect(tc.isTranscoder && tc.architecture == architecture && tc.parameters.hasSkip == skip)
        #expect(metadata.hookName == "blocks.3.mlp.hook_in" && metadata.hookNameOut == "blocks.3.hook_mlp_out")
        let x = try SAELensInteropTests.npy("inputs.npy")
        SAELensInteropTests.expectSame(try tc.encode(x), try SAELensInteropTests.npy("encoded-\(name).npy"), "\(name) encoding")
        SAELensInteropTests.expectSame(try tc.output(x), try SAELensInteropTests.npy("output-\(name).npy"), "\(name) output", sameSupport: false)
    }
}
