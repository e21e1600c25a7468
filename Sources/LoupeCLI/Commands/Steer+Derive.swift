import Analyses
import ArgumentParser
import Foundation
import Models
import Store

extension Loupe.Steer {
    /// `loupe steer derive`: a direction from contrastive pairs, one prompt pair, a .npy, a store or a saved probe.
    struct Derive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Derive a steering direction and save it as JSON (and optionally a llama.cpp control vector).",
            discussion: """
            Sources (one of):
              --pairs F.jsonl    contrastive pairs {"positive": ..., "negative": ...} per line; \
            --method mean-diff (CAA: mean of positives - mean of negatives, the default) or pca \
            (first principal component of the paired differences, signed so positives project \
            higher, scaled to the mean projection; --center subtracts the mean difference first \
            as repeng does)
              --positive P --negative N   pooled ActAdd: the difference of one pair of prompts, each \
            pooled to one vector (not Turner et al.'s position-by-position ActAdd: `loupe steer actadd`)
              --npy F.npy        a raw vector of the hook's width
              --store S --label FIELD   difference of means over a `loupe capture` store's \
            prompts with FIELD = 1 (positive) and 0 (negative), at --hook/--layer (--capture ID \
            when the store holds several)
              --probe F.json     a saved probe (`loupe probe train`): its weight vector in raw \
            activation space, at the probe's hook; a binary probe's positive class (classes[1]) \
            by default, --class NAME for the other class (the negated row) or for a multinomial \
            probe (required); logistic and diffmeans probes (ridge probes are refused)
              --snmf F.json --feature N   a feature of a saved SNMF fit (`loupe snmf fit`): \
            its neuron group z at unit norm at the fitted hook (blocks.L.mlp.hook_post), or its \
            residual image W_down z with --hook blocks.L.hook_resid_post (or hook_mlp_out)
              --sae DIR --feature N   an SAE latent's decoder row (SAELens folder), at the \
            hook the SAE was trained on

            Each prompt becomes one vector at the hook (--position-rule): the mean over positions \
            1... (mean-excluding-first, the default for pairs; position 0 is the attention sink) \
            or the last position (the default for pooled ActAdd, so one-word prompts work). \
            Activations come from live forward passes.

            The file is JSON: {"format": "loupe-steering-direction", "version": 1, "hook", \
            "width", "vector", "provenance": {source, model, dataset, pairs, layer, norm, \
            positionRule, notes}}. --gguf also writes llama.cpp's control-vector format \
            (direction.N for blocks.N.hook_resid_post, N >= 1).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Contrastive pairs, JSON lines {\"positive\": ..., \"negative\": ...}.") var pairs: String?
        @Option(help: "Pooled ActAdd: the positive prompt.") var positive: String?
        @Option(help: "Pooled ActAdd: the negative prompt.") var negative: String?
        @Option(help: "A .npy vector to wrap as a direction.") var npy: String?
        @Option(help: "An activation store made by `loupe capture` (with --label).") var store: String?
        @Option(help: "Capture id in --store (default: the only one).") var capture: Int64?
        @Option(help: "With --store: the prompt label field; 1/true is positive, 0/false negative.") var label: String?
        @Option(help: "A saved probe file (probe-<hook>.json or best-probe.json from `loupe probe train`).") var probe: String?
        @Option(help: "A saved SNMF fit (snmf.json from `loupe snmf fit`); its --feature is the direction.") var snmf: String?
        @Option(help: "A saved SAE folder (cfg.json + sae_weights.safetensors, from `loupe sae train` or SAELens); its --feature's decoder row is the direction.") var sae: String?
        @Option(help: "With --snmf or --sae: the feature's index.") var feature: Int?
        @Option(name: .customLong("class"), help: "With --probe: the class whose weights are the direction (default: a binary probe's positive class).") var className: String?
        @Option(help: "mean-diff or pca (with --pairs).") var method: SteeringSweep.Method = .meanDifference
        @Flag(help: "pca: center the paired differences first (repeng's pca_diff).") var center = false
        @Option(help: "Layer: the hook is blocks.L.hook_resid_post (default: the middle layer).") var layer: Int?
        @Option(help: "Hook point name (overrides --layer), e.g. blocks.12.hook_resid_pre.") var hook: String?
        @Option(name: .customLong("position-rule"), help: "mean-excluding-first or last.") var positionRule: PositionRule?
        @Option(help: "Where to write the direction JSON.") var out: String
        @Option(help: "Also write a llama.cpp control vector GGUF here.") var gguf: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            let sources = [pairs != nil, positive != nil || negative != nil, npy != nil, store != nil, probe != nil, snmf != nil, sae != nil].filter { $0 }.count
            guard sources == 1 else { throw ValidationError("give exactly one source: --pairs, --positive with --negative, --npy, --store with --label, --probe, --snmf or --sae with --feature") }
            if (snmf == nil && sae == nil) != (feature == nil) { throw ValidationError("--feature goes with --snmf or --sae") }
            if className != nil && probe == nil { throw ValidationError("--class goes with --probe") }
            if (store == nil) != (label == nil) { throw ValidationError("--store and --label go together") }
            if store != nil && method == .principalComponent { throw ValidationError("--store derives a difference of means (its prompts are not paired); drop --method pca") }
            if (positive == nil) != (negative == nil) { throw ValidationError("pooled ActAdd needs both --positive and --negative") }
        }

        func run() throws {
            let m = try modelOptions.load()
            let (source, point, contrast) = try chosenSource(m)
            let context = DerivationContext(model: m.transformer, tokenizer: m.tokenizer, hook: point, modelName: m.config.name)
            Console.progress("deriving \(source.kind.rawValue) at \(point.name)" + (contrast.isEmpty ? "" : " from \(contrast.count) pair(s)"))
            let direction = try source.direction(in: context)
            let notes = direction.provenance.notes
            if let store, let skipped = notes["skipped"], let label {
                if skipped != "0" { Console.progress("\(skipped) prompt(s) without a 0/1 \(label) (or rows) skipped") }
                Console.progress("\(notes["positive"] ?? "?") positive and \(notes["negative"] ?? "?") negative prompts from \(store)")
            }
            try direction.save(to: out)
            Console.progress("wrote \(out)")
            if let gguf {
                try ControlVectorExport.write([direction], config: m.config, to: gguf)
                Console.progress("wrote llama.cpp control vector \(gguf)")
            }
            // How well the direction separates its own pairs (training separation).
            var separated: Int? = nil
            if !contrast.isEmpty, npy == nil {
                let acts = try ContrastActivations.collect(contrast, at: [point], rule: positionRule ?? (pairs == nil ? .last : .meanExcludingFirst),
                                                           pooling: ActivationPooling(model: m.transformer, tokenizer: m.tokenizer))[point]!
                separated = acts.separatedPairs(by: direction.vector)
            }
            struct Summary: Encodable { let hook: String; let source: String; let width: Int; let norm: Double; let pairs: Int?; let separated: Int?; let out: String }
            if format == .json {
                return try Console.json(Summary(hook: direction.hook, source: direction.provenance.source, width: direction.width,
                                                norm: direction.norm, pairs: direction.provenance.pairs, separated: separated, out: out))
            }
            Console.out("direction: \(direction.provenance.source) at \(direction.hook), width \(direction.width), norm \(fmt(direction.norm))")
            if let separated { Console.out("pairs where the positive prompt projects higher: \(separated)/\(contrast.count)") }
            for (k, v) in direction.provenance.notes.sorted(by: { $0.key < $1.key }) where k == "explained" {
                Console.out("variance of the paired differences along it: \(v)")
            }
        }

        /// The direction source the options name, the hook it derives at, and its contrast
        /// pairs (for the separation line). A probe, SNMF feature or SAE latent derives at its
        /// own hook unless --hook/--layer names one (which must then be the same).
        func chosenSource(_ m: LoadedModel) throws -> (any DirectionSource, HookPoint, [ContrastPair]) {
            let saved = try SteerInputs.probe(probe, className: className)
            let snmfSource = try snmf.map { try SNMFFeatureSource(file: SNMFFile.load(path: $0), path: $0, feature: feature!) }
            let saeSource = try sae.map { try SAEFeatureSource(directory: $0, feature: feature!) }
            let ownPoint = try saved?.hookPoint(in: m.config) ?? snmfSource?.fittedPoint ?? saeSource?.trainedPoint
            let layerPoint = try layer.map { l -> HookPoint in
                guard l >= 0, l < m.config.nLayers else { throw ValidationError("--layer \(l) is outside 0..<\(m.config.nLayers)") }
                return .residPost(l)
            }
            let point = try hook.map { try m.config.hookPoint(named: $0) } ?? layerPoint ?? ownPoint ?? .residPost(m.config.nLayers / 2)
            if let pairs {
                let contrast = try ContrastPair.read(path: pairs)
                let name = URL(fileURLWithPath: pairs).lastPathComponent
                let rule = positionRule ?? .meanExcludingFirst
                let source: any DirectionSource = method == .meanDifference
                    ? MeanDifferenceSource(pairs: contrast, rule: rule, dataset: name)
                    : PrincipalComponentSource(pairs: contrast, rule: rule, centered: center, dataset: name)
                return (source, point, contrast)
            }
            if let positive, let negative {
                return (PooledActAddSource(positive: positive, negative: negative, rule: positionRule ?? .last), point,
                        [ContrastPair(positive: positive, negative: negative)])
            }
            if let store, let label {
                return (StoreContrastSource(store: store, capture: capture, label: label, rule: positionRule ?? .meanExcludingFirst), point, [])
            }
            if let saved { return (ProbeDirectionSource(probe: saved), point, []) }
            if let snmfSource { return (snmfSource, point, []) }
            if let saeSource { return (saeSource, point, []) }
            return (NPYVectorSource(path: npy!), point, [])
        }
    }
}
