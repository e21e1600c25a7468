import Analyses
import ArgumentParser
import Foundation
import Store

/// Contrast activations read from an activation store instead of live passes
/// (`loupe steer derive --store S --label FIELD`).
enum StoreContrast {
    /// Per prompt of the capture: its rows at `hook` pooled by `rule` (positions > 0 averaged,
    /// or the last stored position); prompts whose `label` is 1/true are positive, 0/false
    /// negative, others skipped.
    static func load(store path: String, capture id: Int64?, hook: String, label: String,
                     rule: PositionRule) throws -> (ContrastActivations, skipped: Int) {
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("store not found: \(path)") }
        let db = try ActivationStore(path: path)
        let summary = try Loupe.StoreCommand.choose(id, in: db)
        var reader = try ActivationReader(store: db, capture: try db.capture(id: summary.id), hook: hook, batchSize: 4096)
        var sums: [Int: (sum: [Double], count: Int, lastPosition: Int, last: [Float], label: Double?)] = [:]
        while let batch = try reader.nextBatch() {
            let labels = batch.label(label)
            let w = batch.rows.shape[1]
            for r in 0..<batch.rows.shape[0] {
                let p = batch.promptIndices[r], pos = batch.positions[r]
                let row = Array(batch.rows.scalars[(r * w)..<((r + 1) * w)])
                var entry = sums[p] ?? ([Double](repeating: 0, count: w), 0, -1, [], labels[r])
                if pos > 0 {
                    for j in 0..<w { entry.sum[j] += Double(row[j]) }
                    entry.count += 1
                }
                if pos > entry.lastPosition { entry.lastPosition = pos; entry.last = row }
                sums[p] = entry
            }
        }
        var positive: [[Float]] = [], negative: [[Float]] = []
        var skipped = 0
        for p in sums.keys.sorted() {
            let e = sums[p]!
            let vector: [Float]
            switch rule {
            case .last: vector = e.last
            case .meanExcludingFirst:
                guard e.count > 0 else { skipped += 1; continue }
                vector = e.sum.map { Float($0 / Double(e.count)) }
            }
            switch e.label {
            case 1: positive.append(vector)
            case 0: negative.append(vector)
            default: skipped += 1
            }
        }
        if positive.isEmpty || negative.isEmpty {
            throw SteeringError.emptyContrastSet("capture \(summary.id) in \(path) has \(positive.count) prompt(s) with \(label) = 1 and \(negative.count) with \(label) = 0 at \(hook)")
        }
        return (ContrastActivations(positive: positive, negative: negative), skipped)
    }
}
