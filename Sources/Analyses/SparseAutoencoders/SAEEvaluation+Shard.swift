import Foundation
import Models
import Store

/// What makes two sharded SAE evaluations the same job: the model, the SAE's files, the
/// hooks, the evaluated token sequences (hashed) and every setting that changes a number.
public struct SAEEvaluationJob: ShardedJob, Equatable {
    public static let analysisName = "sae-eval"
    public static let itemNoun = "batches"
    public var model: String
    public var modelHash: String
    /// The SAE folder as given (informational, not compared) and the content hash of its files.
    public var sae: String
    public var saeHash: String
    public var architecture: String
    /// The replaced hook as the result names it (`in -> out` for a transcoder).
    public var hook: String
    /// Sequences evaluated, their tokens, and the content hash of their token ids in order.
    public var sequences: Int
    public var tokens: Int
    public var sequencesHash: String
    public var batchSize: Int
    public var batchTokens: Int
    public var includesPosition0: Bool
    public var denseThreshold: Double
    /// `d_in` and `d_sae` (the totals' sizes).
    public var width: Int
    public var latents: Int

    public init(model: String, modelHash: String, sae: String, saeHash: String, parameters: any SparseAutoencoder,
                sequences: [[Int]], config: SAEEvaluationConfig) {
        self.model = model
        self.modelHash = modelHash
        self.sae = sae
        self.saeHash = saeHash
        self.architecture = SAEEvaluation.architectureName(parameters)
        self.hook = SAEEvaluation.hookName(config)
        self.sequences = sequences.count
        self.tokens = sequences.reduce(0) { $0 + $1.count }
        var hash = ContentHash()
        for s in sequences {
            hash.combine(s.count)
            for t in s { hash.combine(t) }
        }
        self.sequencesHash = hash.hex
        self.batchSize = config.batchSize
        self.batchTokens = config.batchTokens
        self.includesPosition0 = config.includesPosition0
        self.denseThreshold = config.denseThreshold
        self.width = parameters.width
        self.latents = parameters.latents
    }

    /// Everything compared, hashed and shortened.
    public var id: String {
        var hash = ContentHash()
        hash.combine("\(model) \(modelHash) \(saeHash) \(architecture) \(hook) \(sequences) \(tokens) \(sequencesHash)")
        hash.combine("\(batchSize) \(batchTokens) \(includesPosition0) \(denseThreshold) \(width) \(latents)")
        return String(hash.hex.prefix(12))
    }

    /// Equal in everything but the SAE folder's path.
    public func sameJob(as other: SAEEvaluationJob) -> Bool {
        var a = self, b = other
        (a.sae, b.sae) = ("", "")
        return a == b
    }

    /// The result one process computes, from every batch's own sums in batch order (the
    /// single run adds them the same way, so the numbers are equal to the bit).
    public func result(_ batches: [SAEEvaluationTotals]) -> SAEEvaluationResult {
        var totals = SAEEvaluationTotals(width: width, latents: latents)
        for b in batches { totals.add(b) }
        return SAEEvaluationResult(totals: totals, hook: hook, architecture: architecture, sequences: sequences,
                                   includesPosition0: includesPosition0, denseThreshold: denseThreshold)
    }

    /// The content hash of the regular files of an SAE folder, by name.
    /// - Throws: ``Store/StoreError`` when a file cannot be read.
    public static func folderHash(_ directory: String) throws -> String {
        var hash = ContentHash()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            hash.combine(name)
            try hash.combine(fileAt: path)
        }
        return hash.hex
    }
}

/// A sharded SAE evaluation's progress: each evaluated batch's own sums (never averages).
public typealias SAEEvaluationShardFile = ShardFile<SAEEvaluationJob, SAEEvaluationTotals>

extension SAEEvaluationTotals {
    /// Adds another part's sums (one batch's, in batch order).
    public mutating func add(_ o: SAEEvaluationTotals) {
        rows += o.rows
        squaredError += o.squaredError
        squaredNormIn += o.squaredNormIn
        dot += o.dot
        squaredNormOut += o.squaredNormOut
        for j in sumIn.indices { sumIn[j] += o.sumIn[j] }
        normIn += o.normIn
        normOut += o.normOut
        cosine += o.cosine
        normRatio += o.normRatio
        l0 += o.l0
        l1 += o.l1
        for i in fired.indices { fired[i] += o.fired[i] }
        ceCount += o.ceCount
        ceClean += o.ceClean
        ceSAE += o.ceSAE
        ceZero += o.ceZero
        ceMean += o.ceMean
        klCount += o.klCount
        klSAE += o.klSAE
        klZero += o.klZero
        klMean += o.klMean
    }
}
