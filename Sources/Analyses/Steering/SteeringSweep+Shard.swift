import Foundation
import Store

/// What makes two sharded steering sweeps the same job: the model, the pairs, held-out
/// prompts, neutral text, concept tokens, readout, layers in order and every setting.
public struct SteeringSweepJob: ShardedJob, Equatable {
    public static let analysisName = "steer-sweep"
    public static let itemNoun = "layers"
    public var model: String
    public var modelHash: String
    /// The pairs file as given (informational, not compared).
    public var pairsFile: String
    public var pairs: [ContrastPair]
    public var method: SteeringSweep.Method
    public var positionRule: String
    public var layers: [Int]
    public var strengths: [String]
    /// The held-out prompts as run (chat-wrapped when asked) and the neutral texts.
    public var prompts: [String]
    public var neutral: [String]
    public var conceptTokens: [Int]
    /// The readout's name and the content hash of its file, when one was given.
    public var readout: String?
    public var maxKL: Double

    public init(model: String, modelHash: String, pairsFile: String, sweep: SteeringSweep, prompts: [String], neutral: [String],
                conceptTokens: [Int], readout: String?, maxKL: Double) {
        self.model = model
        self.modelHash = modelHash
        self.pairsFile = pairsFile
        self.pairs = sweep.pairs
        self.method = sweep.method
        self.positionRule = sweep.rule.rawValue
        self.layers = sweep.layers
        self.strengths = sweep.strengths.map(\.description)
        self.prompts = prompts
        self.neutral = neutral
        self.conceptTokens = conceptTokens
        self.readout = readout
        self.maxKL = maxKL
    }

    /// Everything compared, hashed and shortened.
    public var id: String {
        var job = self
        job.pairsFile = ""
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        var hash = ContentHash()
        hash.combine(String(decoding: (try? e.encode(job)) ?? Data(), as: UTF8.self))
        return String(hash.hex.prefix(12))
    }

    /// Equal in everything but the pairs file's path.
    public func sameJob(as other: SteeringSweepJob) -> Bool {
        var a = self, b = other
        (a.pairsFile, b.pairsFile) = ("", "")
        return a == b
    }
}

/// A sharded steering sweep's progress: each layer's one-layer ``SteeringSweep/Result`` once swept.
public typealias SteeringSweepShardFile = ShardFile<SteeringSweepJob, SteeringSweep.Result>

extension SteeringSweep.Result {
    /// One result from the one-layer results of a sweep's layers, in the given order.
    /// - Throws: ``SteeringError/invalid(_:)`` for an empty list.
    public static func joined(_ parts: [SteeringSweep.Result]) throws -> SteeringSweep.Result {
        guard var out = parts.first else { throw SteeringError.invalid("no layer results to join") }
        for p in parts.dropFirst() {
            out.directionNorms += p.directionNorms
            out.typicalNorms += p.typicalNorms
            out.layers += p.layers
            out.cells += p.cells
        }
        return out
    }
}
