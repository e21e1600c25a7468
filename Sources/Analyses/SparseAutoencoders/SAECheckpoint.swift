import Foundation
import Formats
import Linalg

/// Everything an interrupted SAE training needs to continue bit for bit: the config, the
/// source's identity and position (``SAESourceState``), the parameters, the Adam moments and
/// step counts, the BatchTopK threshold estimate, JumpReLU's log-threshold, the dead-latent
/// counters, the pass, and the progress window. The schedules need no state of their own:
/// they are functions of the step.
///
/// On disk it is one safetensors file: every Float array a float32 tensor (bit for bit), the
/// rest JSON in the metadata key `loupe_checkpoint`. ``write(to:)`` writes a temporary file in
/// the same folder, syncs it to disk and renames it over the old checkpoint, so a crash leaves
/// the old or the new one, never half of one.
public struct SAECheckpoint {
    /// The JSON part.
    struct Header: Codable {
        var format = 1
        var config: SAETrainingConfig
        /// The config's fields as JSON text when written (compared as text on resume).
        var configFields: [String: String]
        var identity: [String: String]
        var width: Int
        var targetWidth: Int?
        var step: Int
        var seen: Int
        var epoch: Int
        var seconds: Double
        var sinceFired: [Int]
        var window: SAETrainer.Window
        var last: SAEProgress?
        var isTranscoder: Bool
        /// BatchTopK / Matryoshka: the threshold estimate's bit pattern.
        var batchTopKThreshold: UInt64?
        /// BatchTopK / Matryoshka: batches the estimate has seen (the first sets it).
        var batchTopKObservations: Int?
        /// Per Adam: steps and the bias-correction powers' bit patterns.
        var adamSteps: [Int]
        var adamPowers: [[UInt32]]
        var sourceIntegers: [String: Int]
    }

    var header: Header
    /// Parameters (`W_enc`, ...), `log_threshold`, `adam.<i>.m` / `.v` and `source.<name>`.
    var arrays: [String: [Float]]

    /// The file's name in an SAE output folder.
    public static let fileName = "training-checkpoint.safetensors"

    /// Steps taken when it was written.
    public var step: Int { header.step }
    /// The steps of the whole run.
    public var steps: Int { header.config.steps }
    /// The source's saved position.
    public var source: SAESourceState {
        var s = SAESourceState(integers: header.sourceIntegers)
        for (k, v) in arrays where k.hasPrefix("source.") { s.arrays[String(k.dropFirst(7))] = v }
        return s
    }
    /// The pass the trainer was in.
    public var epoch: Int { header.epoch }

    init(header: Header, arrays: [String: [Float]]) {
        self.header = header
        self.arrays = arrays
    }

    /// The checkpoint of `run` with its source's state, the pass and the identity of the data.
    init(run: SAETrainingRun, source: SAESourceState, epoch: Int, identity: [String: String]) throws {
        let p = run.sae.parameters
        let base = (run.sae as? BatchTopKSAE) ?? (run.sae as? MatryoshkaSAE)?.base
        header = Header(config: run.config, configFields: try Self.fields(run.config), identity: identity, width: p.width, targetWidth: p.isTranscoder ? p.outputWidth : nil,
                        step: run.step, seen: run.seen, epoch: epoch, seconds: run.seconds, sinceFired: run.sinceFired,
                        window: run.window, last: run.last, isTranscoder: p.isTranscoder, batchTopKThreshold: base?.threshold.bitPattern,
                        batchTopKObservations: base?.thresholdObservations,
                        adamSteps: run.adams.map(\.state.steps),
                        adamPowers: run.adams.map { [$0.state.beta1Power.bitPattern, $0.state.beta2Power.bitPattern] },
                        sourceIntegers: source.integers)
        arrays = ["W_enc": p.wEnc, "W_dec": p.wDec, "b_enc": p.bEnc, "b_dec": p.bDec, "threshold": p.threshold,
                  "W_skip": p.wSkip, "log_threshold": run.logThreshold]
        for (i, a) in run.adams.enumerated() {
            arrays["adam.\(i).m"] = a.state.m
            arrays["adam.\(i).v"] = a.state.v
        }
        for (k, v) in source.arrays { arrays["source." + k] = v }
    }

    /// The Adam states saved.
    func adamStates() throws -> [Adam.State] {
        guard header.adamSteps.count == header.adamPowers.count, header.adamPowers.allSatisfy({ $0.count == 2 }) else {
            throw SAEError.checkpoint("the checkpoint's Adam states are malformed")
        }
        return try header.adamSteps.indices.map { i in
            let m = arrays["adam.\(i).m"] ?? [], v = arrays["adam.\(i).v"] ?? []
            guard m.count == v.count, header.adamSteps[i] >= 0 else {
                throw SAEError.checkpoint("the checkpoint's Adam state \(i) has \(m.count) first and \(v.count) second moments")
            }
            return Adam.State(steps: header.adamSteps[i], m: m, v: v, beta1Power: Float(bitPattern: header.adamPowers[i][0]),
                              beta2Power: Float(bitPattern: header.adamPowers[i][1]))
        }
    }

    /// Refuses to resume a run whose config, widths or data differ from the checkpoint's,
    /// naming the first differing field (`progressEvery` may differ: it changes no weights).
    /// - Throws: ``SAEError/checkpoint(_:)``.
    public func check(config: SAETrainingConfig, width: Int, targetWidth: Int?, identity: [String: String], path: String) throws {
        func refuse(_ field: String, _ saved: String, _ now: String) -> SAEError {
            .checkpoint("\(path) was written by a run with \(field) \(saved), but this run has \(now); rerun with the same options "
                        + "to resume, or delete the checkpoint to start over")
        }
        let saved = header.configFields, now = try Self.fields(config)
        for key in Set(saved.keys).union(now.keys).sorted() where key != "progressEvery" && saved[key] != now[key] {
            throw refuse(key, saved[key] ?? "(none)", now[key] ?? "(none)")
        }
        if header.width != width { throw refuse("row width", String(header.width), String(width)) }
        if header.targetWidth != targetWidth { throw refuse("target width", "\(header.targetWidth.map(String.init) ?? "none")", "\(targetWidth.map(String.init) ?? "none")") }
        for key in Set(header.identity.keys).union(identity.keys).sorted() where header.identity[key] != identity[key] {
            throw refuse("data \(key)", header.identity[key] ?? "(none)", identity[key] ?? "(none)")
        }
    }

    /// A config's fields as JSON text, by name.
    static func fields(_ config: SAETrainingConfig) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] ?? [:]
        var out: [String: String] = [:]
        for (k, v) in object {
            let data = try JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys, .fragmentsAllowed])
            out[k] = String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
        return out
    }

    /// Writes the checkpoint atomically: a temporary file in the same folder, synced, renamed.
    /// - Throws: ``FormatError`` or ``SAEError/checkpoint(_:)`` when it cannot be written.
    public func write(to path: String) throws {
        let json = try Self.encoder.encode(header)
        let tensors = arrays.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
            .map { SafetensorsEncoder.Tensor32(name: $0.key, shape: [$0.value.count], values: $0.value) }
        let bytes = try SafetensorsEncoder.encode(tensors, metadata: ["loupe_checkpoint": String(decoding: json, as: UTF8.self)], file: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// JSON coders that keep a diverged run's NaN or infinite progress numbers.
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// Reads the checkpoint at `path`, or nil when there is none.
    /// - Throws: ``SAEError/checkpoint(_:)`` or ``FormatError`` for a file that is not a readable checkpoint.
    public static func read(at path: String) throws -> SAECheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafetensorsCheckpoint(path: path)
        guard let text = file.metadata["loupe_checkpoint"] else {
            throw SAEError.checkpoint("\(path) is not a Loupe training checkpoint (no 'loupe_checkpoint' metadata)")
        }
        let header: Header
        do { header = try decoder.decode(Header.self, from: Data(text.utf8)) } catch {
            throw SAEError.checkpoint("\(path): the checkpoint's JSON cannot be read (\(error))")
        }
        guard header.format == 1 else { throw SAEError.checkpoint("\(path) has checkpoint format \(header.format); this Loupe reads 1") }
        var arrays: [String: [Float]] = [:]
        for name in file.tensorNames { arrays[name] = try file.tensor(name).scalars }
        return SAECheckpoint(header: header, arrays: arrays)
    }

    /// Deletes the checkpoint at `path` if there is one (after the finished SAE is saved).
    public static func remove(at path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }
}

/// How ``SAETrainer`` checkpoints: where, how often, and (to interrupt a run on purpose, as
/// tests do) after which step to stop.
public struct SAECheckpointing {
    /// The checkpoint file; an existing one is resumed from.
    public var path: String
    /// Steps between checkpoints (0: none, except at `stopAfter`).
    public var every: Int
    /// Stop after this step, once its checkpoint is written (nil: run to the end).
    public var stopAfter: Int?
    /// Called with the checkpoint's step and the run's steps when a run resumes.
    public var resumed: (Int, Int) -> Void

    public init(path: String, every: Int = 500, stopAfter: Int? = nil, resumed: @escaping (Int, Int) -> Void = { _, _ in }) {
        self.path = path
        self.every = every
        self.stopAfter = stopAfter
        self.resumed = resumed
    }
}
