import Linalg
import Models

/// A training source of one hook (and a transcoder's target hook) computed live by the
/// forward pass over token windows, through a seeded shuffle buffer (``LiveActivations``):
/// `loupe sae train --corpus FILE --context N`. Each pass runs the windows again in a new order.
public struct LiveSource: SAETrainingSource {
    public private(set) var activations: LiveActivations
    public var width: Int { activations.widths[0] }
    public var targetWidth: Int? { activations.targetWidths[0] }
    public var skipped: [String: Int] { activations.skipped[0] }

    /// - Throws: as ``LiveActivations/init(model:windows:channels:bufferRows:windowsPerPass:seed:outlierFactor:)``.
    public init(model: Transformer, windows: [[Int]], hook: HookPoint, targetHook: HookPoint? = nil, bufferRows: Int = 16384,
                windowsPerPass: Int = 8, seed: UInt64 = 0, outlierFactor: Float = 10) throws {
        activations = try LiveActivations(model: model, windows: windows, channels: [.init(input: hook, target: targetHook)],
                                          bufferRows: bufferRows, windowsPerPass: windowsPerPass, seed: seed, outlierFactor: outlierFactor)
    }

    public mutating func startPass(_ epoch: Int) throws { activations.startPass(epoch) }

    public var identity: [String: String] { activations.identity }
    public func checkpointState() throws -> SAESourceState { activations.checkpointState() }
    public mutating func restore(_ state: SAESourceState) throws { try activations.restore(state) }

    public mutating func nextBatch(rows: Int) throws -> Tensor? { try nextPairedBatch(rows: rows)?.input }

    public mutating func nextPairedBatch(rows: Int) throws -> (input: Tensor, target: Tensor?)? {
        try activations.nextBatch(channel: 0, rows: rows)
    }
}
