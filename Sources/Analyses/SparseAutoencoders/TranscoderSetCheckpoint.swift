import Foundation
import Formats

/// A transcoder set's training checkpoint (`DIR/training-checkpoint.safetensors`): the layers
/// being trained, per layer its run (an ``SAECheckpoint``'s run part, arrays prefixed
/// `layer<L>.`), whether it is done and its seconds, and the shared live source's state
/// (`source.` arrays), written atomically between two rounds of steps. A rerun of
/// ``TranscoderSetTrainer/train(model:windows:heldOut:config:directory:settings:checkpoint:progress:)``
/// resumes mid-layer from it.
struct TranscoderSetCheckpoint {
    struct Header: Codable {
        var format = 1
        var layers: [Int]
        var done: [Bool]
        var seconds: [Double]
        /// Rounds of steps taken (every unfinished layer steps once per round).
        var rounds: Int
        var configFields: [String: String]
        var identity: [String: String]
        var sourceIntegers: [String: Int]
        /// Per layer index, the run's checkpoint header (nil: no step yet).
        var runs: [SAECheckpoint.Header?]
    }

    var header: Header
    var arrays: [String: [Float]]

    /// The run of layer index `c`, or nil before its first step.
    func run(_ c: Int, config: SAETrainingConfig) throws -> SAETrainingRun? {
        guard c < header.runs.count, let h = header.runs[c] else { return nil }
        let prefix = "layer\(header.layers[c])."
        var a: [String: [Float]] = [:]
        for (k, v) in arrays where k.hasPrefix(prefix) { a[String(k.dropFirst(prefix.count))] = v }
        return try SAETrainingRun(restoring: SAECheckpoint(header: h, arrays: a), config: config)
    }

    /// The live source's saved state.
    var source: SAESourceState {
        var s = SAESourceState(integers: header.sourceIntegers)
        for (k, v) in arrays where k.hasPrefix("source.") { s.arrays[String(k.dropFirst(7))] = v }
        return s
    }

    init(header: Header, arrays: [String: [Float]]) {
        self.header = header
        self.arrays = arrays
    }

    init(layers: [Int], runs: [SAETrainingRun?], done: [Bool], seconds: [Double], rounds: Int, config: SAETrainingConfig,
         live: LiveActivations) throws {
        let state = live.checkpointState()
        var headers: [SAECheckpoint.Header?] = []
        arrays = [:]
        for (c, run) in runs.enumerated() {
            guard let run else { headers.append(nil); continue }
            let one = try SAECheckpoint(run: run, source: SAESourceState(), epoch: 0, identity: [:])
            headers.append(one.header)
            for (k, v) in one.arrays { arrays["layer\(layers[c])." + k] = v }
        }
        for (k, v) in state.arrays { arrays["source." + k] = v }
        header = Header(layers: layers, done: done, seconds: seconds, rounds: rounds, configFields: try SAECheckpoint.fields(config),
                        identity: live.identity, sourceIntegers: state.integers, runs: headers)
    }

    /// Refuses a checkpoint of another config or source, naming the field.
    func check(config: SAETrainingConfig, live: LiveActivations, path: String) throws {
        func refuse(_ field: String, _ saved: String?, _ now: String?) -> SAEError {
            .checkpoint("\(path) was written by a run with \(field) \(saved ?? "(none)"), but this run has \(now ?? "(none)"); rerun with "
                        + "the same options to resume, or delete the checkpoint to start over")
        }
        let now = try SAECheckpoint.fields(config)
        for key in Set(now.keys).union(header.configFields.keys).sorted() where key != "progressEvery" && now[key] != header.configFields[key] {
            throw refuse(key, header.configFields[key], now[key])
        }
        let identity = live.identity
        for key in Set(identity.keys).union(header.identity.keys).sorted() where identity[key] != header.identity[key] {
            throw refuse("data \(key)", header.identity[key], identity[key])
        }
    }

    func write(to path: String) throws {
        let json = try SAECheckpoint.encoder.encode(header)
        let tensors = arrays.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
            .map { SafetensorsEncoder.Tensor32(name: $0.key, shape: [$0.value.count], values: $0.value) }
        try AtomicFile.write(try SafetensorsEncoder.encode(tensors, metadata: ["loupe_transcoder_set_checkpoint": String(decoding: json, as: UTF8.self)],
                                                           file: path), to: path)
    }

    /// The checkpoint at `path`, or nil when there is none.
    static func read(at path: String) throws -> TranscoderSetCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafetensorsCheckpoint(path: path)
        guard let text = file.metadata["loupe_transcoder_set_checkpoint"] else {
            throw SAEError.checkpoint("\(path) is not a Loupe transcoder-set training checkpoint")
        }
        let header: Header
        do { header = try SAECheckpoint.decoder.decode(Header.self, from: Data(text.utf8)) } catch {
            throw SAEError.checkpoint("\(path): the checkpoint's JSON cannot be read (\(error))")
        }
        guard header.format == 1, header.done.count == header.layers.count, header.seconds.count == header.layers.count,
              header.runs.count == header.layers.count else {
            throw SAEError.checkpoint("\(path): the checkpoint's per-layer lists do not match its \(header.layers.count) layers")
        }
        var arrays: [String: [Float]] = [:]
        for name in file.tensorNames { arrays[name] = try file.tensor(name).scalars }
        return TranscoderSetCheckpoint(header: header, arrays: arrays)
    }
}
