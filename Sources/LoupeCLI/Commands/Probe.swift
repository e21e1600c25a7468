import ArgumentParser
import Foundation
import Models
import Probes
import Reporting
import Store

extension ReadPosition: ExpressibleByArgument {}
extension ProbeKind: ExpressibleByArgument {}

extension Loupe {
    /// `loupe probe`: linear probes on stored activations.
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit linear probes per layer on stored activations, and apply saved probes.",
            discussion: """
            `loupe probe train` fits one probe per hook point on a store's activations and \
            writes a report folder; `loupe probe apply` runs a saved probe on new prompts \
            through a live forward pass.
            """,
            subcommands: [ProbeTrain.self, ProbeApply.self])
    }

    /// `loupe probe train`.
    struct ProbeTrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Fit a probe per hook point; report accuracy (or R² with --target) by layer, control task and selectivity.",
            discussion: """
            Examples come from a store made by `loupe capture`: with --dataset probes/NAME the \
            definition file says which field is the label, where to read (last token, the \
            subject's last token, or the mean over positions 1..n) and which field holds the \
            word the label hinges on; with --label FIELD any capture of a JSONL file with that \
            field works (--word FIELD for the control task). With --capture-missing (default \
            model) or --model PATH, hooks or a dataset the store lacks are captured first; \
            otherwise the store alone is read.

            Per hook: a seeded stratified train/test split (--test-fraction), k-fold \
            cross-validation on the training part (--folds; --c auto picks C from a grid by it), \
            the fit, and the same probe on Hewitt & Liang's control task (random labels per word \
            type), whose accuracy is subtracted for selectivity. Logistic regression is \
            scikit-learn's L2 objective (C as in LogisticRegression) solved by L-BFGS to \
            max|gradient| <= --tol. Features are standardized unless --no-standardize; then \
            rows whose norm exceeds --outlier-factor x the median (attention sinks and a few \
            other tokens reach ~100x) are left out and counted (--keep-outliers keeps them).

            The report (default reports/probe-<dataset>/): layers.csv, layers.svg, \
            confusion.csv/.svg at the best layer (chosen by cross-validated accuracy), \
            summary.txt, index.html, probe-<hook>.json for each hook and best-probe.json \
            (weights in raw activation space; see `loupe probe apply`).

            Numeric targets: --probe ridge --target FIELD fits ridge regression of a numeric \
            field of the prompts (e.g. latitude, birth_year; the dataset's "targets" lists \
            them) on the same rows: a seeded random 75/25 split, alpha chosen from \
            0.1, 1, ..., 100000 by 5-fold cross-validated R² on the training part (unless \
            --alpha A is given), features standardized and outliers left out as above. Per \
            hook it reports R² and MSE on train and test, the baseline that predicts the \
            training mean, and a control: the same probe fitted on the values shuffled among \
            the prompts. The best layer is chosen by cross-validated R². The report has \
            layers.csv, layers.svg, predictions.csv (held-out values and predictions at the \
            best layer), summary.txt and index.html; no probe file is saved. A missing or \
            non-numeric value names the prompt; a constant target is an error. Example:

              loupe probe train --store places.db --dataset probes/world-places \\
                --probe ridge --target latitude --capture-missing

            Shards: with --shard I/N (or a job array's variables, see --shard) a process fits \
            the hooks whose index (in the order --hooks resolves them) mod N is I, reading the \
            store only (capture first), and saves each hook's result to \
            OUT-shard-I-of-N/shard.json (a rerun resumes). `loupe report merge OUT DIRS...` \
            then writes the report one process writes. Classification probes only (not \
            --target). Example (docs/SCALE.md has Slurm and Kubernetes recipes):

              loupe probe train --store s.db --dataset probes/sentiment --out reports/p --shard 0/2
              loupe probe train --store s.db --dataset probes/sentiment --out reports/p --shard 1/2
              loupe report merge reports/p reports/p-shard-0-of-2 reports/p-shard-1-of-2
            """)

        @Option(help: "The activation store.") var store: String
        @Option(help: "A probe dataset folder (with dataset.json), e.g. probes/facts-true-false.") var dataset: String?
        @Option(help: "Label field of the prompts' metadata (instead of, or overriding, the dataset's).") var label: String?
        @Option(help: "Field with the word the label hinges on, for the control task.") var word: String?
        @Option(help: "Where to read each prompt: last, subject, mean or stored (default: the dataset's; stored without one).")
        var position: ReadPosition?
        @Option(help: "Capture id to read (default: the newest that fits).") var capture: Int64?
        @Option(help: "Hook name patterns (globs), comma-separated.") var hooks = "blocks.*.hook_resid_post"
        @Option(help: "Probe: logistic, ridge or diffmeans.") var probe: ProbeKind = .logistic
        @Option(name: .customLong("c"), help: "Logistic inverse regularization C (scikit-learn's), 'auto' (chosen by CV) or 'none'.")
        var c = "1"
        @Option(help: "Ridge regularization alpha, or 'auto' (chosen by CV; default 1 for classes, auto with --target).")
        var alpha: String?
        @Option(help: "Numeric field to predict with --probe ridge (ridge regression; R² and MSE per layer).")
        var target: String?
        @Flag(help: "Fit on raw activations (no standardization, no outlier rule unless --outlier-factor).") var noStandardize = false
        @Option(help: "Outlier rule: leave out rows with norm above this many times the median.") var outlierFactor: Float?
        @Flag(help: "Keep huge-norm rows.") var keepOutliers = false
        @Option(help: "Share of each class held out for testing.") var testFraction = 0.25
        @Option(help: "Cross-validation folds on the training part (0: none).") var folds = 5
        @Option(help: "Seed of the split, folds and control labels.") var seed: UInt64 = 1
        @Option(help: "Solver tolerance on max |gradient| (scikit-learn's tol).") var tol = 1e-4
        @Option(help: "Most L-BFGS iterations.") var maxIter = 1000
        @Flag(help: "Skip the control task.") var noControl = false
        @Option(help: "Report folder (default: reports/probe-<dataset or label>).") var out: String?
        @Option(help: "Model to capture missing hooks or datasets with (nothing is captured without it or --capture-missing).") var model: String?
        @Flag(help: "Capture what the store lacks with the default model ($LOUPE_MODEL or the SmolLM2 GGUF).") var captureMissing = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var shardOptions: ShardOptions

        func validate() throws {
            if dataset == nil && label == nil { throw ValidationError("give --dataset DIR or --label FIELD") }
            if !(testFraction > 0 && testFraction < 1) { throw ValidationError("--test-fraction must be between 0 and 1") }
            if folds < 0 || folds == 1 { throw ValidationError("--folds must be 0 (none) or at least 2") }
            if c != "auto" && c != "none" && !((Double(c) ?? -1) > 0) { throw ValidationError("--c must be a positive number, auto or none, not '\(c)'") }
            if let alpha, alpha != "auto" && !((Double(alpha) ?? -1) >= 0) { throw ValidationError("--alpha must be a number >= 0 or auto, not '\(alpha)'") }
            if target != nil && probe != .ridge { throw ValidationError("--target FIELD predicts a number: it needs --probe ridge (got \(probe.rawValue))") }
            if let f = outlierFactor, !(f > 1) { throw ValidationError("--outlier-factor must be > 1") }
        }

        struct LayerOut: Encodable {
            let hook: String; let layer: Int?; let trainAccuracy: Double; let testAccuracy: Double
            let cvMean: Double?; let cvStd: Double?; let controlAccuracy: Double?; let selectivity: Double?
            let majorityBaseline: Double; let regularization: Double?; let outliers: [Int]; let converged: Bool
        }
        struct Output: Encodable {
            let dataset: String; let label: String; let position: String; let probe: String; let examples: Int
            let classes: [String]; let best: String?; let layers: [LayerOut]; let finding: [String]; let report: String
        }

        /// The model to capture missing activations with, if any.
        var captureModel: String? { model ?? (captureMissing ? ModelLoader.defaultModelPath : nil) }

        func run() throws {
            let definition = try dataset.map(DatasetDefinition.load)
            if captureModel == nil && !FileManager.default.fileExists(atPath: store) {
                throw ValidationError("store not found: \(store) (make it with `loupe capture`, or pass --capture-missing / --model to capture into it)")
            }
            if captureModel != nil {  // a new store's folder, so capturing can create the file
                let parent = (store as NSString).deletingLastPathComponent
                if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            }
            let db = try ActivationStore(path: store, create: captureModel != nil)
            let training = ProbeTraining(store: db, definition: definition, label: label ?? definition!.label,
                                         word: word ?? definition?.word, position: position ?? definition?.position ?? .stored,
                                         captureID: capture, experiment: try experiment(controlWord: (word ?? definition?.word) != nil))
            var loaded = try checkedCaptureModel(db)
            let config = try db.models().first?.config ?? {
                loaded = try loadCaptureModel(reason: "the store holds no model's captures")
                return loaded!.config
            }()
            let wanted = try HookPattern.resolve(hooks, config: config)
            var holders = try training.holders(wanted.map(\.name))
            let missing = wanted.filter { holders[$0.name] == nil }
            let sharded = try shardOptions.resolved()
            if let sharded, !missing.isEmpty { throw shardLacks(sharded.shard, missing: missing.map(\.name)) }
            if !missing.isEmpty {
                guard captureModel != nil, definition != nil else { throw try nothingToRead(training, missing: missing.map(\.name)) }
                Console.progress("capturing \(missing.count) hook(s) of \(training.name) at positions \(training.position.capturePositions)")
                try training.capture(missing, model: loaded ?? loadCaptureModel(reason: ""))
                holders = try training.holders(wanted.map(\.name))
            }
            if let sharded { return try trainShard(sharded.shard, source: sharded.source, training, hooks: wanted.map(\.name), holders: holders) }
            if let target { return try runRegression(training, target: target, hooks: wanted.map(\.name), holders: holders) }
            let report = try training.run(hooks: wanted.map(\.name), holders: holders, progress: Console.progress)
            var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
                ?? ReportFolder(analysis: "probe", label: training.name)
            let notes = report.outlierNotes(rule: training.experiment.outlierRule)
            try report.write(to: &folder, command: commandLine(), notes: notes, probeFile: report.probeFile(for:))
            let reportPath = out ?? "reports/" + ReportFolder.folderName(analysis: "probe", label: training.name)
            if format == .json { return try Console.json(Self.output(report, reportPath: reportPath)) }
            Self.printTable(report, regularization: regularizationText, notes: notes, reportPath: reportPath)
        }

        /// The experiment the options describe (the regularization grid when chosen by CV).
        func experiment(controlWord: Bool) throws -> ProbeExperiment {
            var options = ProbeOptions(kind: probe, standardize: !noStandardize, tolerance: tol, maxIterations: maxIter)
            var grid: [Double] = []
            if probe == .logistic {
                if c == "auto" { grid = [0.001, 0.01, 0.1, 1, 10, 100] } else { options.c = c == "none" ? .infinity : Double(c)! }
            }
            if probe == .ridge {
                if alpha == "auto" { grid = [0.1, 1, 10, 100, 1000, 10000] } else { options.alpha = Double(alpha ?? "1")! }
            }
            let rule: OutlierRule? = keepOutliers ? nil : outlierFactor.map(OutlierRule.init) ?? (noStandardize ? nil : OutlierRule())
            return ProbeExperiment(options: options, testFraction: testFraction, folds: folds, grid: grid, seed: seed,
                                   outlierRule: rule, control: !noControl && controlWord)
        }

        /// The model of --model / --capture-missing, loaded (with progress lines).
        func loadCaptureModel(reason: String) throws -> LoadedModel {
            guard let path = captureModel else { throw ProbeError.noCapture(store: store, reason: reason) }
            return try ModelOptions.load(path)
        }

        /// The model of --model, loaded, when the store already holds captures: it must be the
        /// store's model (its activations are what the probe trains on), as `capture` requires.
        func checkedCaptureModel(_ db: ActivationStore) throws -> LoadedModel? {
            guard model != nil, let stored = try db.models().first else { return nil }
            let loaded = try loadCaptureModel(reason: "")
            let given = try ModelIdentity(of: loaded)
            guard try db.models().contains(where: { $0.fileHash == given.fileHash }) else {
                throw ValidationError("\(store) holds activations of \(stored.name) (\(stored.path), hash \(stored.fileHash)), not of --model "
                    + "\(given.name) (\(given.path), hash \(given.fileHash)); the probe would train on the other model's activations: "
                    + "pass the store's model, or --store a new file for this one")
            }
            return loaded
        }

        /// Why hooks the store lacks cannot be read, when nothing may be captured.
        func nothingToRead(_ training: ProbeTraining, missing: [String]) throws -> Error {
            let readAt = training.position, definition = training.definition
            let any = try? ProbeData.capture(in: training.store, dataset: definition?.storedName, position: readAt, hooks: missing)
            if let any { return ProbeError.hookNotCaptured(hook: missing[0], captured: any.hooks) }
            return ProbeError.noCapture(store: store, reason: "no capture of \(definition?.storedName ?? "any dataset") at positions \(readAt.capturePositions); run `loupe capture --prompts \(definition?.promptsPath ?? "FILE") --positions \(readAt.capturePositions) --hooks '\(hooks)' --store \(store)` or pass --capture-missing")
        }

        static func output(_ report: ProbeReport, reportPath: String) -> Output {
            let finite = { (x: Double) in x.isFinite ? x : nil }
            return Output(
                dataset: report.dataset, label: report.label, position: report.position.rawValue, probe: report.options.kind.rawValue,
                examples: report.examples, classes: report.classes, best: report.best?.hook,
                layers: report.layers.map { l in
                    let r = l.result
                    return LayerOut(hook: l.hook, layer: l.layer, trainAccuracy: r.trainAccuracy, testAccuracy: r.testAccuracy,
                                    cvMean: finite(r.cvMean), cvStd: finite(r.cvStd), controlAccuracy: finite(r.controlAccuracy),
                                    selectivity: finite(r.selectivity), majorityBaseline: r.majorityBaseline,
                                    regularization: finite(r.regularization), outliers: r.outlierPrompts, converged: r.converged)
                }, finding: report.finding, report: reportPath)
        }

        static func printTable(_ report: ProbeReport, regularization reg: String, notes: [String], reportPath: String) {
            Console.out("\(report.options.kind.rawValue) probe (\(reg)\(report.options.standardize ? ", standardized" : "")) on \(report.dataset) / \(report.label): "
                        + "\(report.examples) examples, classes \(report.classes.joined(separator: ", ")), position \(report.position.rawValue)")
            let width = max(4, report.layers.map(\.hook.count).max() ?? 4)
            Console.out("hook".padding(toLength: width, withPad: " ", startingAt: 0) + "  train   test    cv      control  selectivity")
            let num = { (x: Double) in x.isNaN ? "  -   " : String(format: "%.3f ", x) }
            for l in report.layers {
                let r = l.result
                Console.out(l.hook.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + num(r.trainAccuracy) + "  "
                            + num(r.testAccuracy) + "  " + num(r.cvMean) + "  " + num(r.controlAccuracy) + "   "
                            + (r.selectivity.isNaN ? "-" : String(format: "%+.3f", r.selectivity)))
            }
            if let b = report.best { Console.out("best: \(b.hook) (by cross-validated accuracy); majority baseline \(String(format: "%.3f", b.result.majorityBaseline))") }
            for s in report.finding + notes { Console.out(s) }
            Console.out("report written to \(reportPath)")
        }
    }
}
