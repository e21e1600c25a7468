import Analyses
import Foundation
import LoupeTestSupport
import Models
import Testing

/// Activation patching on the default model: the fast sweep equals whole patched runs, the
/// identities that must hold do, and the known flow of a fact (from the token that differs at
/// the bottom to the last token at the top) shows up.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct ActivationPatchingTests {
    /// "France" -> "Italy" is one token: the prompts differ at one position.
    static let clean = "The capital of France is", corrupted = "The capital of Italy is"

    func setup() throws -> (LoadedModel, [Int], [Int], Int, Int) {
        let m = try RealModel.shared()
        let a = try m.tokenizer.encode(Self.clean), b = try m.tokenizer.encode(Self.corrupted)
        return (m, a, b, try m.tokenizer.encode(" Paris")[0], try m.tokenizer.encode(" Rome")[0])
    }

    @Test(arguments: ActivationPatching.Direction.allCases)
    func sweepCellsEqualWholePatchedRuns(direction: ActivationPatching.Direction) throws {
        let (m, a, b, paris, rome) = try setup()
        #expect(a.count == b.count && a.count == 5)
        let layers = [0, 7, 18, 29]
        let patching = ActivationPatching(model: m.transformer, config: .init(direction: direction, layers: layers))
        let r = try patching.run(clean: a, corrupted: b, answer: paris, wrong: rome)
        #expect(r.clean.logitDifference > 2 && r.corrupted.logitDifference < -2, "clean \(r.clean), corrupted \(r.corrupted)")
        for site in ActivationPatching.Site.allCases {
            let grid = try #require(r.grids[site])
            #expect(grid.count == m.config.nLayers)
            #expect(grid[1].allSatisfy { $0.logitDifference.isNaN })
            for layer in layers {
                for column in site.isPerHead ? [0, 4, 8] : [1, 3, 4] {
                    let once = try patching.patchOnce(clean: a, corrupted: b, answer: paris, wrong: rome, site: site, layer: layer,
                                                      positions: site.isPerHead ? nil : [column], heads: site.isPerHead ? [column] : nil)
                    let cell = grid[layer][column]
                    #expect(abs(cell.logitDifference - once.logitDifference) < 1e-3, "\(site) L\(layer) \(column): \(cell) vs \(once)")
                    #expect(abs(cell.probability - once.probability) < 1e-4, "\(site) L\(layer) \(column)")
                }
            }
        }
        // Positions before the first difference change nothing: exactly the base run.
        #expect(r.grids[.residPre]![7][0] == r.base)
        #expect(r.rowLayersComputed < r.rowLayersNaive / 2)
    }

    /// Lanes run several (site, layer) batches at once; each is the same computation as in
    /// one lane (within sgemm's last bits, which depend on OpenBLAS's threading).
    @Test func lanesGiveTheSameCells() throws {
        let (m, a, b, paris, rome) = try setup()
        let patching = ActivationPatching(model: m.transformer, config: .init(layers: [0, 3, 12, 29]))
        let one = try patching.run(clean: a, corrupted: b, answer: paris, wrong: rome)
        let two = try patching.run(clean: a, corrupted: b, answer: paris, wrong: rome, lanes: 2)
        #expect(one.rowLayersComputed == two.rowLayersComputed)
        for site in ActivationPatching.Site.allCases {
            let (g1, g2) = (try #require(one.grids[site]), try #require(two.grids[site]))
            for (layer, (r1, r2)) in zip(g1, g2).enumerated() {
                for (x, y) in zip(r1, r2) {
                    #expect(x.logitDifference.isNaN == y.logitDifference.isNaN, "\(site) L\(layer)")
                    if x.logitDifference.isNaN { continue }
                    #expect(abs(x.logitDifference - y.logitDifference) < 1e-4 && abs(x.probability - y.probability) < 1e-5,
                            "\(site) L\(layer): \(x) vs \(y)")
                }
            }
        }
    }

    @Test func identitiesHoldThroughRunsActuallyMade() throws {
        let (m, a, b, paris, rome) = try setup()
        let layers = [0, 15, 29]
        let sweep = ActivationPatching(model: m.transformer, config: .init(layers: layers))
        // Identical prompts with every patch run anyway: each cell is the clean run's logit
        // difference, its indirect effect 0; the normalized scale does not exist (NaN, not 0/0 = 1).
        let same = try sweep.run(clean: a, corrupted: a, answer: paris, wrong: rome, skipUnchanged: false)
        #expect(same.rowLayersComputed >= layers.reduce(0) { $0 + 3 * a.count * (m.config.nLayers - $1) })
        #expect(!same.hasNormalizedScale)
        for site in ActivationPatching.Site.allCases {
            for layer in layers {
                let cells = try #require(same.grids[site]?[layer]), effects = try #require(same.indirectEffects?[site]?[layer])
                #expect(cells.allSatisfy { abs($0.logitDifference - same.clean.logitDifference) < 1e-4 }, "\(site) \(layer)")
                #expect(effects.allSatisfy { abs($0.logitDifference) < 1e-4 && abs($0.probability) < 1e-5 }, "\(site) \(layer)")
                #expect(same.normalizedGrid(site)![layer].allSatisfy { $0.isNaN })
            }
        }
        // Prompts that differ, every cell run: the differing token's resid_pre at layer 0 carries
        // everything that differs, so patching it gives the source run: 1 denoising, 0 noising.
        let country = try #require((0..<a.count).first { a[$0] != b[$0] })
        let full = try sweep.run(clean: a, corrupted: b, answer: paris, wrong: rome, skipUnchanged: false)
        #expect(abs(full.normalizedGrid(.residPre)![0][country] - 1) < 1e-4)
        #expect(abs(full.indirectEffects![.residPre]![0][country].logitDifference
                    - (full.clean.logitDifference - full.corrupted.logitDifference)) < 1e-4)
        let noising = try ActivationPatching(model: m.transformer, config: .init(direction: .noising, layers: layers))
            .run(clean: a, corrupted: b, answer: paris, wrong: rome, skipUnchanged: false)
        #expect(abs(noising.normalizedGrid(.residPre)![0][country]) < 1e-4)
        // The cells the default sweep skips are what running them gives.
        let skipping = try sweep.run(clean: a, corrupted: b, answer: paris, wrong: rome)
        #expect(skipping.rowLayersComputed < full.rowLayersComputed)
        for site in ActivationPatching.Site.allCases {
            for layer in layers {
                for (x, y) in zip(skipping.grids[site]![layer], full.grids[site]![layer]) {
                    #expect(abs(x.logitDifference - y.logitDifference) < 1e-4, "\(site) \(layer): \(x) vs \(y)")
                }
            }
        }
        let patching = ActivationPatching(model: m.transformer)
        let clean = try patching.patchOnce(clean: a, corrupted: a, answer: paris, wrong: rome, site: .residPre, layer: 0, positions: [])
        // Every position of resid_pre at layer 0 patched: the clean run, bit for bit.
        let all0 = try patching.patchOnce(clean: a, corrupted: b, answer: paris, wrong: rome, site: .residPre, layer: 0)
        #expect(all0 == clean)
        // All heads' outputs together are the attention output.
        for layer in [3, 20] {
            let heads = try patching.patchOnce(clean: a, corrupted: b, answer: paris, wrong: rome, site: .head, layer: layer)
            let attn = try patching.patchOnce(clean: a, corrupted: b, answer: paris, wrong: rome, site: .attnOut, layer: layer)
            #expect(abs(heads.logitDifference - attn.logitDifference) < 1e-4, "layer \(layer): \(heads) vs \(attn)")
        }
    }

    @Test func theFactMovesFromTheCountryToTheLastToken() throws {
        let (m, a, b, paris, rome) = try setup()
        let L = m.config.nLayers
        let r = try ActivationPatching(model: m.transformer, config: .init(sites: [.residPre]))
            .run(clean: a, corrupted: b, answer: paris, wrong: rome)
        let g = r.normalizedGrid(.residPre)!
        let country = 3, last = a.count - 1
        // At the bottom everything that differs is at the country's token; at the top, at the last token.
        #expect(abs(g[0][country] - 1) < 1e-3 && abs(g[0][last]) < 1e-3, "layer 0: \(g[0])")
        #expect(abs(g[L - 1][last] - 1) < 0.05 && abs(g[L - 1][country]) < 0.05, "layer \(L - 1): \(g[L - 1])")
        // Somewhere in between the information moves: the country's cell falls below one half
        // at some layer and stays below it.
        let moved = try #require((0..<L).first { l in (l..<L).allSatisfy { g[$0][country] < 0.5 } })
        #expect(moved > 2 && moved < L - 2, "moved at layer \(moved): \(g.map { $0[country] })")
    }

    @Test func unequalLengthsAndSameAnswerAreErrors() throws {
        let (m, a, _, paris, rome) = try setup()
        let patching = ActivationPatching(model: m.transformer)
        #expect(throws: AnalysisError.lengthMismatch(clean: 5, corrupted: 6)) {
            try patching.run(clean: a, corrupted: a + [13], answer: paris, wrong: rome)
        }
        #expect(throws: AnalysisError.self) { try patching.run(clean: a, corrupted: a, answer: paris, wrong: paris) }
    }
}
