import Foundation
import Store

extension ProbeData {
    /// One example per prompt of `capture` at `hook`, with the prompt's numeric `target` field
    /// (a JSON number, or a string holding one as TSV cells do; booleans are refused).
    /// - Parameter word: the metadata field kept as each row's word (nil: none).
    /// - Throws: ``ProbeError/badTarget(field:prompts:found:)`` naming every prompt whose value
    ///   is missing, null, not a number or not finite; ``ProbeError/hookNotCaptured(hook:captured:)``,
    ///   ``StoreError``.
    public static func loadValues(store: ActivationStore, capture: CaptureSummary, hook: String, position: ReadPosition,
                                  target: String, word: String?) throws -> RegressionData {
        let p = try pooledRows(store: store, capture: capture, hook: hook, position: position)
        var targets: [Double] = [], bad: [Int] = [], found: [String] = []
        for (meta, prompt) in zip(p.metadata, p.prompts) {
            let value = meta[target]
            var number: Double? = nil
            switch value {
            case .number(let n)?: number = n
            case .string(let s)?: number = Double(s.trimmingCharacters(in: .whitespaces))
            default: number = nil
            }
            if let number, number.isFinite {
                targets.append(number)
            } else {
                bad.append(prompt)
                found.append(value.map { $0 == .null ? "null" : "'\($0.text)'" } ?? "missing")
                targets.append(.nan)
            }
        }
        if !bad.isEmpty { throw ProbeError.badTarget(field: target, prompts: bad, found: found) }
        let m = FeatureMatrix(x: p.x, rows: p.prompts.count, width: p.width, labels: Array(repeating: 0, count: p.prompts.count),
                              classes: [target], words: p.metadata.map { m in word.flatMap { m[$0]?.text } ?? "" },
                              prompts: p.prompts)
        return RegressionData(matrix: m, targets: targets, field: target)
    }
}
