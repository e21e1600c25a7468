import LoupeTestSupport
import Models
import Store
import Testing

@Suite struct HookPatternTests {
    let config = TinyModels.llamaConfig(layers: 16)

    @Test func globsSelectHookPointsInForwardOrder() throws {
        let resid = try HookPattern.resolve("blocks.*.hook_resid_post", config: config)
        #expect(resid == (0..<16).map { HookPoint.residPost($0) })
        let mlp = try HookPattern.resolve("blocks.1[0-5].mlp.hook_post", config: config)
        #expect(mlp == (10...15).map { HookPoint.mlpPost($0) })
        let mixed = try HookPattern.resolve("blocks.3.attn.hook_?, hook_embed, blocks.3.hook_resid_pre", config: config)
        #expect(mixed == [.embed, .residPre(3), .q(3), .k(3), .v(3), .z(3)])
        #expect(try HookPattern.resolve("blocks.2.*,blocks.2.hook_resid_post", config: config).count == 17)
    }

    @Test func patternsMatchingNothingSuggestNames() {
        let typo = errorText { _ = try HookPattern.resolve("blocks.*.hook_resid_pots", config: config) }
        #expect(typo.hasPrefix("hook pattern 'blocks.*.hook_resid_pots' matches no hook point: did you mean 'blocks.*.hook_resid_post'"), "\(typo)")
        let outOfRange = errorText { _ = try HookPattern.resolve("blocks.16.hook_resid_post", config: config) }
        #expect(outOfRange.contains("'blocks.16.hook_resid_post' matches no hook point") && outOfRange.contains("blocks.1"))
        #expect(errorText { _ = try HookPattern.resolve(" , ", config: config) }.contains("matches no hook point"))
    }
}
