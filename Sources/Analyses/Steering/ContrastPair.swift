import Foundation

/// One contrastive pair: a prompt showing the concept (`positive`) and a matched prompt
/// showing its opposite (`negative`), as in CAA (Rimsky et al. 2024) and repeng.
///
/// File format: JSON lines `{"positive": "...", "negative": "..."}`; blank lines are skipped,
/// other fields are ignored.
public struct ContrastPair: Codable, Sendable, Equatable {
    public var positive: String
    public var negative: String

    public init(positive: String, negative: String) {
        self.positive = positive
        self.negative = negative
    }

    /// Reads pairs from a JSON-lines file.
    /// - Throws: ``SteeringError/invalid(_:)`` naming the line that is not a pair, or
    ///   ``SteeringError/emptyContrastSet(_:)`` when the file holds none.
    public static func read(path: String) throws -> [ContrastPair] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SteeringError.invalid("cannot read pairs file \(path): \(error.localizedDescription)")
        }
        var pairs: [ContrastPair] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do { pairs.append(try JSONDecoder().decode(ContrastPair.self, from: Data(trimmed.utf8))) } catch {
                throw SteeringError.invalid("\(path):\(i + 1): not a pair {\"positive\": ..., \"negative\": ...}")
            }
        }
        if pairs.isEmpty { throw SteeringError.emptyContrastSet("\(path) holds no pairs") }
        return pairs
    }
}
