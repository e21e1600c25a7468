import Foundation
import Linalg
import LoupeTestSupport
import Models
import RealModule
import Testing

/// The pass switches a family may set, each against a hand computation on a tiny model.
@Suite struct PassOptionsTests {
    /// The same weights under `options`.
    func model(_ config: TransformerConfig, _ options: PassOptions) throws -> Transformer {
        let plain = try TinyModels.model(config)
        var c = config
        c.pass = options
        return try Transformer(config: c, weights: plain.weights)
    }

    @Test(arguments: [TinyModels.llamaConfig(), TinyModels.gpt2Config()])
    func embeddingScaleMultipliesHookEmbed(config: TransformerConfig) throws {
        let scale = Float(config.dModel).squareRoot()
        let m = try model(config, PassOptions(embeddingScale: scale))
        let tokens = [4, 0, 17, 4]
        let cache = ActivationCache()
        var hooks = HookSet()
        hooks.capture([.embed, .residPre(0)], into: cache)
        _ = try m.forward([tokens], hooks: hooks)
        let e = m.weights.tokenEmbedding
        let want = tokens.flatMap { e.row($0).map { $0 * scale } }
        #expect(cache.tensor(.embed)!.scalars == want)
        // Learned positions are added unscaled.
        let residual = cache.tensor(.residPre(0))!.scalars
        if let pe = m.weights.positionEmbedding {
            let sum = (0..<tokens.count).flatMap { p in zip(want[(p * 32)..<((p + 1) * 32)], pe.row(p)).map { $0 + $1 } }
            #expect(residual == sum)
        } else {
            #expect(residual == want)
        }
        // And the scale reaches the logits.
        let plain = try TinyModels.model(config)
        #expect(try plain.forward([tokens]).logits[0] != m.forward([tokens]).logits[0])
    }

    @Test func finalLogitSoftcapIsCapTimesTanh() throws {
        let config = TinyModels.llamaConfig()
        let cap: Float = 2
        let plain = try TinyModels.model(config), capped = try model(config, PassOptions(finalLogitSoftcap: cap))
        let seqs = [[1, 2, 3, 4, 5], [9, 8]]
        for rows in [Transformer.LogitRows.all, .last, .lastPacked] {
            let raw = try plain.forward(seqs, logits: rows).logits
            let got = try capped.forward(seqs, logits: rows).logits
            #expect(got.count == raw.count)
            for (g, r) in zip(got, raw) {
                #expect(g.shape == r.shape)
                #expect(g.scalars == r.scalars.map { cap * Float.tanh($0 / cap) }, "\(rows)")
            }
        }
        // The cap binds: some raw logit is beyond it, and no capped one is.
        let raw = try plain.forward(seqs, logits: .all).logits.flatMap(\.scalars)
        #expect(raw.contains { abs($0) > cap })
        #expect(try capped.forward(seqs, logits: .all).logits.flatMap(\.scalars).allSatisfy { abs($0) < cap })
    }

    @Test func defaultOptionsKeepTheStoredConfigJSON() throws {
        let config = TinyModels.llamaConfig()
        #expect(config.pass.isDefault)
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(!json.contains("pass"), "\(json)")
        // A config stored before the switches existed decodes to the defaults.
        #expect(try JSONDecoder().decode(TransformerConfig.self, from: Data(json.utf8)) == config)
        var gemmaLike = config
        gemmaLike.pass = PassOptions(embeddingScale: 5.5, finalLogitSoftcap: 30)
        let data = try JSONEncoder().encode(gemmaLike)
        #expect(try JSONDecoder().decode(TransformerConfig.self, from: data) == gemmaLike)
        #expect(gemmaLike != config)
    }
}
