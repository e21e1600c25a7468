import Analyses
import ArgumentParser
import Cluster
import Foundation
import Models
import Reporting

extension SemiNMF.Initialization: ExpressibleByArgument {}

extension Loupe {
    /// `loupe snmf fit`: semi-nonnegative matrix factorization of activations.
    struct SNMF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "snmf",
            abstract: "Semi-NMF: decompose activations into sparse neuron-group features.",
            discussion: """
            Semi-nonnegative matrix factorization (Ding, Li & Jordan 2010) as Shafran, Geiger \
            & Geva (2025) apply it to MLP activations: A (neurons x tokens) ≈ Z Y with Z of any \
            sign (each column a feature: a group of neurons) and Y >= 0 (how strongly each token \
            expresses each feature).

            `fit` factorizes and writes a report; `features` prints chosen features from it; `steer` generates with one feature at target KLs; `concepts` compares features with difference of means and a probe on concept detection and steering.

            Example: loupe snmf fit --store acts.db --hook blocks.15.mlp.hook_post --rank 100 --model $LOUPE_MODEL --out f
                     loupe snmf steer --fit f --feature 3 --kl 0.1
            """,
            subcommands: [Fit.self, Features.self, Steer.self, Concepts.self])

        /// `loupe snmf fit`.
        struct Fit: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fit Z Y to a .npy matrix or a store's rows and write a report.",
                discussion: """
                Rows (one of):
                  --input X.npy      any [tokens, neurons] float32/float64/float16 matrix, a row per token
                  --store S --hook H every stored row of hook H (e.g. blocks.15.mlp.hook_post) except \
                position 0 (the attention sink) and, with --model, rows whose token is a special \
                (control) token of its tokenizer such as <|im_start|> (both counted in summary.txt), in memory: about 4·n·d bytes for the rows plus \
                4·(5kn + 7kd) for the fit (--capture ID when the store holds several); with \
                --stream the rows stay in the store and are decoded --chunk-rows at a time on every \
                iteration (one pass each), so n is bounded by the disk: memory about 8kn (Y and the \
                best Y) + 28d² (the SVD start) + 28kd, plus a chunk

                Each iteration: Z by ridge least squares (Cholesky of Y Yᵀ + ridge·I), only the \
                top --sparsity fraction of each feature's neurons kept (0: all), each row of Y \
                scaled to unit norm (Z compensates), then Ding et al.'s multiplicative update of Y. \
                The best iterate is kept; the fit stops when --patience iterations in a row \
                improve the best loss by less than --tolerance of it, or after --iterations.

                Writes summary.txt, loss.csv, loss.svg, features.csv (each feature's top neurons), \
                index.html (the run on one page: loss curve, per feature its top tokens marked in \
                context, neurons and vocabulary effects), \
                snmf.json (every setting, the loss curve, Z; Y with --save-codes) and, for store \
                rows, tokens.csv (each feature's top tokens with context; token text with --model) \
                into --out (default reports/snmf-<label>).

                Across processes (MPI): under `mpirun -np N` or `srun` (detected from \
                OMPI_COMM_WORLD_SIZE or PMIX_RANK, or forced with --mpi) rank r of N fits the \
                contiguous block r·n/N ..< (r+1)·n/N of the rows, streamed (a store's prompts or an \
                --input .npy's rows of that block only, read --chunk-rows at a time on every pass), \
                and the per-iteration sums over tokens are all-reduced: the same factorization and \
                report as one process up to the order of summation. Every rank must get the same \
                command; a bad input (a short .npy, a NaN in one rank's rows) stops every rank with \
                the message. No rank gathers Y: rank 0 merges the ranks' top tokens per feature \
                into the report, and with --save-codes Y goes to codes.npy in --out (every rank \
                writes its columns; --out must be on a file system all ranks see) instead of \
                snmf.json. --init svd or random (kmeans is refused); no --hierarchy. Memory per \
                rank about 8k·n/N + 28d² + 28kd bytes plus a chunk, and for a store about 36n \
                (the rows' origins and their prompts' text and tokens; docs/SCALE.md).
                  mpirun -np 4 loupe snmf fit --store acts.db --hook blocks.15.mlp.hook_post --rank 100 --init random --out f
                """)

            @Option(help: "A [tokens, neurons] .npy matrix (rows are tokens).") var input: String?
            @Option(help: "An activation store made by `loupe capture`.") var store: String?
            @Option(help: "With --store: the hook whose rows to factorize, e.g. blocks.15.mlp.hook_post.") var hook: String?
            @Option(help: "Capture id in --store (default: the only one).") var capture: Int64?
            @Option(help: "Number of features k (at most min(tokens, neurons)).") var rank: Int
            @Option(help: "Fraction of neurons kept per feature after each Z step; 0 keeps all.") var sparsity = 0.01
            @Option(help: "Ridge λ of the Z step's system Y Yᵀ + λI.") var ridge = 1e-6
            @Option(name: .customLong("init"), help: "Initialization: svd, random (seeded) or kmeans (k-means++ seeded, Y = cluster indicator + 0.2).") var initialization: SemiNMF.Initialization = .svd
            @Option(help: "Seed of the random initialization.") var seed: UInt64 = 0
            @Option(help: "Maximum number of iterations.") var iterations = 100
            @Option(help: "Relative improvement of the best loss that counts as progress.") var tolerance = 1e-5
            @Option(help: "Stop after this many iterations in a row without progress.") var patience = 5
            @Option(help: "Report folder (default: reports/snmf-<label>).") var out: String?
            @Option(help: "Label of the default report folder (default: the input's file name or the hook).") var label: String?
            @Flag(name: .customLong("save-codes"), help: "Also save Y (rank x tokens values): in snmf.json, or under MPI in codes.npy beside it.") var saveCodes = false
            @Option(help: "The store's model: its special tokens' rows left out of the fit, token text in tokens.csv and, for an mlp.hook_post fit, vocabulary.csv (what each feature's residual image promotes and suppresses); `default` for $LOUPE_MODEL or the default model.") var model: String?
            @Flag(help: "With --store: stream the rows from the store on every iteration instead of reading them into memory (same result up to summation order; memory about 8·k·n + 28·d² bytes plus a chunk).") var stream = false
            @Option(name: .customLong("chunk-rows"), help: "With --stream or MPI: rows decoded at a time.") var chunkRows = 4096
            @Flag(help: "Fit across the ranks of an MPI job (implied when mpirun or srun started the process); see the discussion.") var mpi = false
            @Option(help: "Coarser levels above --rank, e.g. 20,5: each factorizes the level below's codes, then all are fine-tuned jointly (deep semi-NMF); writes hierarchy.txt/.csv.") var hierarchy: String?
            @Option(help: "With --hierarchy: joint fine-tuning sweeps.") var sweeps = 50
            @Option(help: "Print progress every N iterations.") var every = 10
            @Option(help: "Output format: text or json.") var format: OutputFormat = .text

            func validate() throws {
                guard (input == nil) != (store == nil) else { throw ValidationError("give exactly one of --input or --store") }
                if (store == nil) != (hook == nil) { throw ValidationError("--store and --hook go together") }
                if capture != nil && store == nil { throw ValidationError("--capture goes with --store") }
                if model != nil && store == nil { throw ValidationError("--model only names tokens of --store rows") }
                guard every >= 1 else { throw ValidationError("--every must be at least 1") }
                if stream && store == nil { throw ValidationError("--stream reads a --store; an --input matrix is already in memory") }
                guard chunkRows >= 1 else { throw ValidationError("--chunk-rows must be at least 1") }
                if let hierarchy, hierarchyRanks(hierarchy) == nil { throw ValidationError("--hierarchy takes comma-separated ranks below --rank, e.g. 20,5; got '\(hierarchy)'") }
                if hierarchy != nil && stream { throw ValidationError("--hierarchy fits rows in memory; drop --stream") }
            }

            func hierarchyRanks(_ text: String) -> [Int]? {
                let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
            }

            /// With --hierarchy: the levels above the fit, written beside its report.
            func writeHierarchy(_ rows: any SNMFChunks, level1: SemiNMF.Result, config: SemiNMF.Config, into folder: inout ReportFolder) throws {
                guard let hierarchy, let ranks = hierarchyRanks(hierarchy), let rows = rows as? SNMFRows else { return }
                let h = try SemiNMF(config: config).fitHierarchy(rows, ranks: [rank] + ranks, first: level1, sweeps: sweeps) { Console.progress($0) }
                try h.writeReport(to: &folder)
                Console.progress("hierarchy \(([rank] + ranks).map(String.init).joined(separator: " > ")): relative error \(fmt(h.relativeErrors[0])) stacked, \(fmt(h.relativeError)) fine-tuned")
            }

            func run() throws {
                try Communicator.runCommand(forced: mpi) { try fitAndReport($0) }
            }

            /// The rows (an `.npy` under MPI is streamed, each rank reading its block; a store
            /// is streamed with --stream or under MPI) and the model, when --model names one.
            func openRows(distributed: Bool) throws -> (rows: any SNMFChunks, model: LoadedModel?) {
                let loaded = try model.map { try ModelOptions.load($0 == "default" ? nil : $0) }
                let special = loaded.map { SNMFLeftOut.specialIDs(of: $0.tokenizer) } ?? []
                if let input { return (distributed ? try SNMFNpyStream(npy: input) : try SNMFRows.read(npy: input), loaded) }
                if stream || distributed { return (try SNMFStoreStream(store: store!, capture: capture, hook: hook!, specialIDs: special), loaded) }
                return (try SNMFRows.read(store: store!, capture: capture, hook: hook!, specialIDs: special), loaded)
            }

            /// The fit (over `communicator`'s ranks) and, on rank 0, the report; under MPI with
            /// --save-codes every rank then writes its columns of Y into codes.npy.
            func fitAndReport(_ communicator: Communicator) throws {
                let distributed = communicator.size > 1, lead = communicator.rank == 0
                if distributed && hierarchy != nil { throw ValidationError("--hierarchy fits rows in memory in one process; drop it under MPI") }
                let (rows, loaded) = try communicator.agreeOnErrors { try openRows(distributed: distributed) }
                let streamed = stream || (distributed && store != nil)
                if let left = rows.leftOut, lead { Console.progress("store rows left out: \(left.description)") }
                let config = SemiNMF.Config(rank: rank, sparsity: sparsity, ridge: ridge, initialization: initialization, seed: seed,
                                            iterations: iterations, tolerance: tolerance, patience: patience)
                let share = distributed ? (rows.tokens + communicator.size - 1) / communicator.size : rows.tokens
                let bytes = (streamed || distributed ? SemiNMF.streamingMemoryBytes(tokens: share, neurons: rows.neurons, rank: rank, chunkRows: chunkRows)
                             : SemiNMF.memoryBytes(tokens: rows.tokens, neurons: rows.neurons, rank: rank)) ?? 0
                let ranks = distributed ? " over \(communicator.size) MPI ranks (about \(bytes >> 20) MB each)" : " (about \(bytes >> 20) MB)"
                if lead { Console.progress("factorizing \(rows.tokens) tokens x \(rows.neurons) neurons at rank \(rank)\(streamed ? ", streamed" : "")\(ranks)") }
                let started = Date()
                let report = { (iteration: Int, loss: Double, error: Double) in
                    guard lead, iteration % every == 0 || iteration == 1 else { return }
                    Console.progress("iteration \(iteration): loss \(fmt(loss)), relative error \(fmt(error))")
                }
                let fitter = SemiNMF(config: config)
                guard distributed else {
                    let result = try (rows as? SNMFRows).map { try fitter.fit($0, progress: report) } ?? fitter.fit(chunks: rows, chunkRows: chunkRows, progress: report)
                    let seconds = Date().timeIntervalSince(started)
                    let folder = try writeReport(result, rows: rows, loaded: loaded, config: config, top: nil, codesFile: false)
                    return try printSummary(result, rows: rows, folder: folder, seconds: seconds, ranks: 1)
                }
                let part = try fitter.fit(chunks: rows, communicator: communicator, chunkRows: chunkRows, progress: report)
                let seconds = Date().timeIntervalSince(started)
                let top = !rows.hasOrigins ? nil : try SNMFTopCodes.gathered(codes: part.result.codes, rank: rank, block: part.block,
                                                                                 count: SemiNMF.Result.reportTopTokens, communicator: communicator)
                let path = try communicator.agreeOnErrors {
                    try lead ? writeReport(part.whole, rows: rows, loaded: loaded, config: config, top: top, codesFile: saveCodes).path : ""
                }
                let folder = URL(fileURLWithPath: try communicator.broadcast(text: path))
                if saveCodes {
                    try communicator.agreeOnErrors {
                        try SNMFCodesFile.write(part.result.codes, rank: rank, block: part.block, tokens: part.total,
                                                to: folder.appendingPathComponent(SNMFCodesFile.name).path)
                    }
                }
                if lead { try printSummary(part.whole, rows: rows, folder: folder, seconds: seconds, ranks: communicator.size) }
            }

            /// The report folder (with `codesFile`, an empty codes.npy for the ranks to fill).
            func writeReport(_ result: SemiNMF.Result, rows: any SNMFChunks, loaded: LoadedModel?, config: SemiNMF.Config,
                             top: SNMFTopCodes?, codesFile: Bool) throws -> URL {
                let name = label ?? hook ?? URL(fileURLWithPath: input ?? "").deletingPathExtension().lastPathComponent
                var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) } ?? ReportFolder(analysis: "snmf", label: name)
                var vocabulary: [SNMFVocabularyLens.Effects]? = nil
                if let loaded, case .mlpPost(let layer)? = hook.flatMap(HookPoint.init(name:)) {
                    vocabulary = try SNMFVocabularyLens.effects(of: result.features, rank: rank, model: loaded.transformer, layer: layer)
                }
                try writeHierarchy(rows, level1: result, config: config, into: &folder)
                if codesFile {
                    try SNMFCodesFile.create(at: folder.url.appendingPathComponent(SNMFCodesFile.name).path, rank: rank, tokens: result.tokens)
                }
                try result.writeReport(to: &folder, rows: rows, command: commandLine(), includeCodes: saveCodes,
                                       tokenText: loaded.map { m in { m.tokenizer.decode([$0]) } }, vocabulary: vocabulary,
                                       topCodes: top, codesFile: codesFile ? SNMFCodesFile.name : nil)
                return folder.url
            }

            /// The summary line (or JSON) of a written report.
            func printSummary(_ result: SemiNMF.Result, rows: any SNMFChunks, folder: URL, seconds: Double, ranks: Int) throws {
                Console.progress("report written to \(folder.path)")
                struct Summary: Encodable {
                    let tokens, neurons, rank, iterations, bestIteration, ranks: Int
                    let relativeError, startRelativeError, loss, seconds: Double
                    let converged: Bool
                    let report: String
                }
                let summary = Summary(tokens: rows.tokens, neurons: rows.neurons, rank: rank, iterations: result.losses.count - 1,
                                      bestIteration: result.bestIteration, ranks: ranks, relativeError: result.relativeError,
                                      startRelativeError: result.relativeErrors[0], loss: result.bestLoss, seconds: seconds,
                                      converged: result.converged, report: folder.path)
                if format == .json { return try Console.json(summary) }
                Console.out("semi-NMF of \(rows.tokens) tokens x \(rows.neurons) neurons, rank \(rank): relative error \(fmt(result.relativeError)) at iteration \(result.bestIteration) of \(summary.iterations) (start \(fmt(result.relativeErrors[0])))")
                Console.progress(String(format: "fitted in %.2f s", seconds))
                Console.out("report in \(folder.path)")
            }
        }
    }
}
