import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// SAELens interoperability against the real `sae-lens` package (6.54, fixtures made once by
/// scripts/fixtures/sae/make_saelens_fixtures.py, committed in Tests/Fixtures/sae): folders
/// written by sae-lens's `save_model` load in Loupe and encode as sae-lens encoded them, and
/// Loupe-written folders encode in Loupe as sae-lens encoded them after its `load_from_disk`.
struct SAELensInteropTests {
    static let dir = TestFiles.fixtures.appendingPathComponent("sae")

    static func npy(_ name: String) throws -> Tensor {
        try NumPyArray.read(path: dir.appendingPathComponent(name).path)
    }

    /// `found` within 1e-5 of the reference's largest magnitude everywhere, with the same
    /// active latents (the fixture's inputs keep every decision at least 1e-3 from flipping).
    static func expectSame(_ found: Tensor, _ reference: Tensor, _ what: String, sameSupport: Bool = true) {
        #expect(found.shape == reference.shape, "\(what): shape \(found.shape), reference \(reference.shape)")
        guard found.shape == reference.shape else { return }
        let scale = reference.scalars.reduce(Float(0)) { max($0, abs($1)) }
        #expect(scale > 0, "\(what): an all-zero reference checks nothing")
        var worst: Float = 0, worstAt = 0
        for i in reference.scalars.indices where abs(found.scalars[i] - reference.scalars[i]) > worst {
            worst = abs(found.scalars[i] - reference.scalars[i])
            worstAt = i
        }
        #expect(worst <= 1e-5 * scale, "\(what): |difference| \(worst) at \(worstAt) (\(found.scalars[worstAt]) vs \(reference.scalars[worstAt])), scale \(scale)")
        if sameSupport {
            let differ = zip(found.scalars, reference.scalars).filter { ($0 != 0) != ($1 != 0) }.count
            #expect(differ == 0, "\(what): \(differ) entries active on one side only")
        }
    }

    /// Loads sae-lens's folder `saelens-<name>` and checks encode and decode against sae-lens.
    static func checkSAELensFolder(_ name: String, architecture: String, k: Int? = nil) throws {
        let (sae, metadata) = try SAEFolder.load(dir.appendingPathComponent("saelens-\(name)").path)
        #expect(sae.architecture == architecture)
        #expect(sae.width == 16 && sae.latents == 48)
        if let k { #expect((sae as? TopKSAE)?.k == k) }
        #expect(metadata.hookName == "blocks.3.hook_resid_post")
        #expect(metadata.modelName == "tiny-random-16")
        #expect(metadata.contextSize == 128)
        let x = try npy("inputs.npy")
        let f = try sae.encode(rows: x)
        expectSame(f, try npy("encoded-\(name).npy"), "\(name) encode")
        // sae-lens decoded its own encoding; decode that same encoding here.
        expectSame(try sae.decode(try npy("encoded-\(name).npy")), try npy("decoded-\(name).npy"), "\(name) decode", sameSupport: false)
    }

    @Test func standardFolderFromSAELens() throws {
        try Self.checkSAELensFolder("standard", architecture: "standard")
    }

    @Test func topKFolderFromSAELens() throws {
        try Self.checkSAELensFolder("topk", architecture: "topk", k: 4)
    }

    /// `rescale_acts_by_decoder_norm` true (what SAELens's TopK trainer uses): pre-activations
    /// are scaled by decoder row norms before the top k, and decoding divides by them again.
    /// Loupe folds the norms into the encoder on load, so the decoder rows come out unit norm.
    @Test func rescaledTopKFolderFromSAELens() throws {
        try Self.checkSAELensFolder("topk-rescaled", architecture: "topk", k: 4)
        let (sae, _) = try SAEFolder.load(Self.dir.appendingPathComponent("saelens-topk-rescaled").path)
        for n in sae.parameters.decoderNorms { #expect(abs(n - 1) < 1e-5) }
    }

    /// JumpReLU (per-latent thresholds 0.05-0.4): the encoding matches sae-lens's like the others.
    @Test func jumpReLUFolderFromSAELens() throws {
        try Self.checkSAELensFolder("jumprelu", architecture: "jumprelu")
    }

    /// Folders written by `loupe sae train --input` (committed), loaded by sae-lens, whose
    /// encodings of the inputs are the reference.
    @Test(arguments: ["topk", "standard"])
    func loupeFolderEncodesAsSAELensReadsIt(_ architecture: String) throws {
        let (sae, _) = try SAEFolder.load(Self.dir.appendingPathComponent("loupe-\(architecture)").path)
        #expect(sae.architecture == architecture)
        let f = try sae.encode(rows: try Self.npy("inputs.npy"))
        Self.expectSame(f, try Self.npy("encoded-loupe-\(architecture).npy"), "loupe-\(architecture) encode")
    }

    /// sae-lens reads a `cfg.json` without `metadata.sae_lens_version` as pre-6.0 and keeps only
    /// top-level metadata keys, so a saved folder has the hook, model and context size at both
    /// places, and loads back with them.
    @Test func savedFolderHasTopLevelMetadataForSAELens() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-sae-meta-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let (sae, _) = try SAEFolder.load(Self.dir.appendingPathComponent("saelens-topk").path)
        let metadata = SAEMetadata(hookName: "blocks.15.hook_resid_post", modelName: "SmolLM2-135M-Instruct", contextSize: 128)
        try SAEFolder.save(sae, metadata: metadata, to: tmp.path)
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: tmp.appendingPathComponent("cfg.json"))) as? [String: Any] ?? [:]
        let nested = cfg["metadata"] as? [String: Any] ?? [:]
        for c in [cfg, nested] {
            #expect(c["hook_name"] as? String == "blocks.15.hook_resid_post")
            #expect(c["model_name"] as? String == "SmolLM2-135M-Instruct")
            #expect((c["context_size"] as? NSNumber)?.intValue == 128)
        }
        #expect(try SAEFolder.load(tmp.path).metadata == metadata)
    }

    /// A `rescale_acts_by_decoder_norm` that is not a boolean is refused by name.
    @Test func rescaleFieldMustBeBoolean() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-sae-rescale-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try FileManager.default.copyItem(at: Self.dir.appendingPathComponent("saelens-topk"), to: tmp)
        let cfgURL = tmp.appendingPathComponent("cfg.json")
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: cfgURL)) as? [String: Any] ?? [:]
        cfg["rescale_acts_by_decoder_norm"] = "yes"
        try JSONSerialization.data(withJSONObject: cfg).write(to: cfgURL)
        #expect {
            _ = try SAEFolder.load(tmp.path)
        } throws: { error in
            guard case let SAEError.badConfig(_, field, _) = error else { return false }
            return field == "rescale_acts_by_decoder_norm"
        }
    }
}
