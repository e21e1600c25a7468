import Analyses
import Formats
import Foundation
import Linalg
import LoupeTestSupport
import Testing

/// `SAEConversion` and `SparsifyFolder`: Loupe's (SAELens) layout to EleutherAI sparsify's and
/// back gives the same files' contents, bit for bit, and the same encodings; sparsify's tensor
/// names, shapes and transposition checked by hand; what sparsify or Loupe cannot represent
/// is refused by name.
struct SparsifyConversionTests {
    static let fixtures = TestFiles.fixtures.appendingPathComponent("sae")

    static func temporary() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-convert-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    static func json(_ path: String) throws -> NSDictionary {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! NSDictionary
    }

    /// Every tensor of a safetensors file as bit patterns, by name.
    static func tensors(_ path: String) throws -> [String: [UInt32]] {
        let f = try SafetensorsCheckpoint(path: path)
        var out: [String: [UInt32]] = [:]
        for name in f.tensorNames { out[name] = try f.tensor(name).scalars.map(\.bitPattern) }
        return out
    }

    @Test func loupeTopKRoundTripsThroughSparsifyBitForBit() throws {
        let original = Self.fixtures.appendingPathComponent("loupe-topk").path
        let dir = try Self.temporary()
        let (sae, from) = try SAEConversion.convert(from: original, to: dir + "/sparsify", format: .sparsify)
        #expect(from == .saelens && SAEConversion.format(of: dir + "/sparsify") == .sparsify)
        try SAEConversion.convert(from: dir + "/sparsify", to: dir + "/back", format: .saelens)
        #expect(try Self.tensors(dir + "/back/sae_weights.safetensors") == Self.tensors(original + "/sae_weights.safetensors"))
        #expect(try Self.json(dir + "/back/cfg.json") == Self.json(original + "/cfg.json"))

        // sparsify's names and shapes: encoder.weight is W_enc transposed.
        let s = try SafetensorsCheckpoint(path: dir + "/sparsify/sae.safetensors")
        #expect(Set(s.tensorNames) == ["encoder.weight", "encoder.bias", "W_dec", "b_dec"])
        #expect(s.shape(of: "encoder.weight") == [48, 16] && s.shape(of: "W_dec") == [48, 16] && s.shape(of: "b_dec") == [16])
        let enc = try s.tensor("encoder.weight").scalars, p = sae.parameters
        #expect(enc[5 * 16 + 3] == p.wEnc[3 * 48 + 5] && enc[47 * 16 + 15] == p.wEnc[15 * 48 + 47])
        let cfg = try Self.json(dir + "/sparsify/cfg.json")
        #expect(cfg["activation"] as? String == "topk" && cfg["k"] as? Int == 4 && cfg["num_latents"] as? Int == 48)
        #expect(cfg["d_in"] as? Int == 16 && cfg["transcode"] as? Bool == false && cfg["skip_connection"] as? Bool == false)

        // The same encodings through every folder.
        let x = try NumPyArray.read(path: Self.fixtures.appendingPathComponent("inputs.npy").path)
        let reference = try SAEFolder.load(original).sae.encode(x).scalars.map(\.bitPattern)
        #expect(reference.contains { $0 != 0 })
        for folder in [dir + "/sparsify", dir + "/back"] {
            #expect(try SAEFolder.load(folder).sae.encode(x).scalars.map(\.bitPattern) == reference, "\(folder)")
        }
    }

    /// A TopK transcoder with a skip term: `transcode` and `skip_connection` true, W_skip kept.
    @Test func topKSkipTranscoderRoundTrips() throws {
        var rng = SeededRandom(seed: 8)
        var p = try SAEParameters(width: 6, latents: 10)
        for k in p.wEnc.indices { p.wEnc[k] = rng.nextGaussian() }
        for k in p.wDec.indices { p.wDec[k] = rng.nextGaussian() }
        p.bEnc = (0..<10).map { _ in rng.nextGaussian() }
        p.bDec = (0..<6).map { _ in rng.nextGaussian() }
        p.wSkip = (0..<36).map { _ in rng.nextGaussian() }
        p.isTranscoder = true
        let dir = try Self.temporary()
        let meta = SAEMetadata(hookName: "blocks.1.mlp.hook_in", modelName: "tiny", contextSize: 8, extra: ["seed": "2"], hookNameOut: "blocks.1.hook_mlp_out")
        try SAEFolder.save(try TopKSAE(parameters: p, k: 3), metadata: meta, to: dir + "/tc")
        try SAEConversion.convert(from: dir + "/tc", to: dir + "/sp", format: .sparsify)
        let cfg = try Self.json(dir + "/sp/cfg.json")
        #expect(cfg["transcode"] as? Bool == true && cfg["skip_connection"] as? Bool == true)
        let (back, backMeta) = try SAEFolder.load(dir + "/sp")
        #expect(back.parameters == p && backMeta == meta && (back as? TopKSAE)?.k == 3)
    }

    /// A folder as sparsify writes it (no Loupe metadata; num_latents 0, so d_in x
    /// expansion_factor): the encoding is topk(relu((x - b_dec) · encoder.weightᵀ + encoder.bias)),
    /// computed here by hand.
    @Test func readsASparsifyFolderAsSparsifyEncodes() throws {
        let dir = try Self.temporary()
        let cfg = #"{"activation": "topk", "expansion_factor": 2, "normalize_decoder": true, "num_latents": 0, "k": 2, "multi_topk": false, "skip_connection": false, "transcode": false, "d_in": 3}"#
        try cfg.write(toFile: dir + "/cfg.json", atomically: true, encoding: .utf8)
        let encoder: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, -1, 0, 2, 0.5, 0.5, 0.5]  // [6, 3]
        let bias: [Float] = [0, 0.1, -0.2, 0, 0.3, -5]
        let bDec: [Float] = [0.5, -0.5, 0]
        try SafetensorsEncoder.write([.init(name: "encoder.weight", shape: [6, 3], values: encoder), .init(name: "encoder.bias", shape: [6], values: bias),
                                      .init(name: "W_dec", shape: [6, 3], values: encoder), .init(name: "b_dec", shape: [3], values: bDec)],
                                     to: dir + "/sae.safetensors")
        let (sae, meta) = try SAEFolder.load(dir)
        #expect(sae.architecture == "topk" && sae.latents == 6 && meta.extra["sparsify_hookpoint"] != nil)
        let x: [Float] = [1.5, 0.5, 2]
        let centred = zip(x, bDec).map { $0 - $1 }  // [1, 1, 2]
        let pre = (0..<6).map { i in bias[i] + (0..<3).reduce(Float(0)) { $0 + centred[$1] * encoder[i * 3 + $1] } }
        // pre = [1, 1.1, 1.8, 2, 3.3, -3]: the top 2 are latents 4 (3.3) and 3 (2).
        var expected = [Float](repeating: 0, count: 6)
        for i in [4, 3] { expected[i] = pre[i] }
        let f = try sae.encode(Tensor(shape: [1, 3], scalars: x)).scalars
        for i in 0..<6 { #expect(abs(f[i] - expected[i]) < 1e-6, "latent \(i): \(f)") }
    }

    @Test func whatCannotBeRepresentedIsRefused() throws {
        let dir = try Self.temporary()
        let standard = Self.fixtures.appendingPathComponent("saelens-standard").path
        #expect { try SAEConversion.convert(from: standard, to: dir + "/s", format: .sparsify) } throws: { error in
            "\(error)".contains("'standard'") && "\(error)".contains("sparsify")
        }
        let jump = Self.fixtures.appendingPathComponent("saelens-jumprelu").path
        #expect(throws: SAEError.self) { try SAEConversion.convert(from: jump, to: dir + "/j", format: .sparsify) }
        // groupmax has no Loupe equivalent.
        let topk = Self.fixtures.appendingPathComponent("loupe-topk").path
        try SAEConversion.convert(from: topk, to: dir + "/g", format: .sparsify)
        var cfg = try Self.json(dir + "/g/cfg.json") as! [String: Any]
        cfg["activation"] = "groupmax"
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/g/cfg.json"))
        #expect { try SAEFolder.load(dir + "/g") } throws: { "\($0)".contains("'activation'") && "\($0)".contains("groupmax") }
        // A folder that already holds an SAE, or the source itself, is not written over.
        #expect { try SAEConversion.convert(from: topk, to: dir + "/g", format: .sparsify) } throws: { "\($0)".contains("already holds") }
        #expect { try SAEConversion.convert(from: topk, to: topk, format: .saelens) } throws: { "\($0)".contains("is the folder being converted") }
        // Shapes that contradict cfg.json.
        try SAEConversion.convert(from: topk, to: dir + "/n", format: .sparsify)
        cfg = try Self.json(dir + "/n/cfg.json") as! [String: Any]
        cfg["num_latents"] = 64
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/n/cfg.json"))
        #expect { try SAEFolder.load(dir + "/n") } throws: { "\($0)".contains("num_latents") && "\($0)".contains("48") }
    }
}
